"""The stores domain's public face: stores, staff, the teams managers see, customer ownership.

The work lives in the submodules imported below; other domains call this module only.
"""

from yutang.stores.behavior import fetch_day as fetch_behavior
from yutang.stores.behavior import store_days as store_behavior
from yutang.stores.behavior import yesterday
from yutang.stores.codes import (
    code_stats,
    contact_changed,
    create_code,
    delete_code,
    get_code,
    list_codes,
    qr_png,
    update_code,
)
from yutang.stores.directory import (
    add_staff,
    create_store,
    find_store,
    get_staff,
    get_store,
    list_staff,
    list_stores,
    regions,
    staff_by_wecom,
    staff_leaves,
    staff_of_member,
    sync_staff,
    today,
    update_staff,
    update_store,
    with_team,
)
from yutang.stores.followups import cancel_task, complete_task, create_task, due_reminders, get_task, list_tasks
from yutang.stores.followups import present as present_tasks
from yutang.stores.groupsends import send as send_through_wecom
from yutang.stores.groupsends import sync as sync_group_send
from yutang.stores.groupsends import waiting_sends
from yutang.stores.handovers import get_handover, list_handovers, present, send_handover, start_handover, sync_handover
from yutang.stores.kpis import kpis
from yutang.stores.models import Staff, Store
from yutang.stores.ownership import claim, move, owned_by, owner_of, put_settings, reassign, settings_of
from yutang.stores.personas import activity as persona_activity
from yutang.stores.personas import create_persona, get_persona, list_personas, update_persona
from yutang.stores.personas import present as present_personas
from yutang.stores.targets import list_targets, put_target

__all__ = [
    "Staff", "Store", "add_staff", "cancel_task", "claim", "code_stats", "complete_task", "contact_changed",
    "create_code", "create_persona", "create_store", "create_task", "delete_code", "due_reminders", "fetch_behavior",
    "find_store", "get_code", "get_handover", "get_persona", "get_staff", "get_store", "get_task", "kpis",
    "list_codes", "list_handovers", "list_personas", "list_staff", "list_stores", "list_targets", "list_tasks", "move",
    "owned_by", "owner_of", "persona_activity", "present", "present_personas", "present_tasks", "put_settings",
    "put_target", "qr_png", "reassign", "regions", "send_handover", "send_through_wecom", "settings_of",
    "staff_by_wecom", "staff_leaves", "staff_of_member", "start_handover", "store_behavior", "sync_group_send",
    "sync_handover", "sync_staff", "today", "update_code", "update_persona", "update_staff", "update_store",
    "waiting_sends", "with_team", "yesterday",
]
