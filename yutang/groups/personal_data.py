"""The groups domain's entries in the per-customer data registry."""

from yutang.groups import chats
from yutang.groups.models import GroupMember
from yutang.kit.personal_data import CustomerTable, collect, move, scrub

TABLES = (
    CustomerTable(GroupMember, merge=move("groups", chats.move_members),
                  export=collect("groups", chats.export_members),
                  erase=scrub("userid", fn=chats.erase_members),
                  reason="memberships stay for group figures; the WeCom external user id identifies the person"),
)
