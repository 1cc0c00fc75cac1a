"""The groups domain's entries in the per-customer data registry."""

from yutang.groups import chats, library
from yutang.groups.models import GroupMember, MaterialUse
from yutang.kit.personal_data import CustomerTable, collect, delete, move, scrub

TABLES = (
    CustomerTable(GroupMember, merge=move("groups", chats.move_members),
                  export=collect("groups", chats.export_members),
                  erase=scrub("userid", fn=chats.erase_members),
                  reason="memberships stay for group figures; the WeCom external user id identifies the person"),
    CustomerTable(MaterialUse, merge=move("library_uses", library.move_uses),
                  export=collect("library_uses", library.export_uses), erase=delete(fn=library.erase_uses),
                  reason="which materials staff sent the person, and when"),
)
