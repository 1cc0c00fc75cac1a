"""The groups domain's public face: customer groups from WeCom, group QR codes, group health.

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
    sync_groups,
)
from yutang.groups.codes import code_stats, create_code, delete_code, get_code, list_codes
from yutang.groups.health import group_health, owner_health, pull_statistics, record_activity
from yutang.groups.models import GroupChat, GroupCode, GroupMember

__all__ = [
    "GroupChat", "GroupCode", "GroupMember", "chat_changed", "code_stats", "create_code", "customer_groups",
    "delete_code", "get_code", "get_group", "group_health", "group_names", "group_with_count", "groups_of_customer",
    "list_codes", "list_groups", "members_of", "owner_health", "pull_statistics", "record_activity", "sync_groups",
]
