"""The groups domain's public face: customer groups from WeCom, group QR codes, group health, sends and Moments,
the library of materials and scripts.

The work lives in the submodules imported below; other domains call this module only.
"""

from yutang.groups.chats import (
    chat_changed,
    customer_groups,
    get_group,
    group_names,
    group_with_count,
    groups_of_customer,
    list_groups,
    members_of,
    record_chat,
    sync_groups,
)
from yutang.groups.codes import code_stats, create_code, delete_code, get_code, list_codes
from yutang.groups.health import group_health, owner_health, pull_statistics, record_activity
from yutang.groups.library import (
    archive_material,
    as_text,
    create_folder,
    create_material,
    delete_folder,
    get_folder,
    get_material,
    list_folders,
    list_materials,
    record_uses,
    update_material,
    usable,
    use_report,
)
from yutang.groups.models import GroupChat, GroupCode, GroupMember
from yutang.groups.moments import get_moment, list_moments, sync_moment
from yutang.groups.moments import publish as publish_moment
from yutang.groups.sends import get_send, list_sends, sync_send
from yutang.groups.sends import send as send_to_groups

__all__ = [
    "GroupChat", "GroupCode", "GroupMember", "chat_changed", "code_stats", "create_code", "customer_groups",
    "delete_code", "get_code", "get_group", "get_send", "group_health", "group_names", "group_with_count",
    "groups_of_customer", "list_codes", "list_groups", "list_sends", "members_of", "owner_health", "pull_statistics",
    "record_activity", "record_chat", "send_to_groups", "sync_groups", "sync_send", "get_moment", "list_moments",
    "sync_moment", "publish_moment", "archive_material", "as_text", "create_folder", "create_material",
    "delete_folder", "get_folder", "get_material", "list_folders", "list_materials", "record_uses",
    "update_material", "usable", "use_report",
]
