"""The segments domain's entries in the per-customer data registry."""

from yutang.kit.personal_data import KEEP, CustomerTable, collect, move
from yutang.segments import service
from yutang.segments.models import StaticMember

TABLES = (
    CustomerTable(StaticMember, merge=move("static_segments", service.move_customer),
                  export=collect("static_segments", service.export), erase=KEEP,
                  reason="places on static lists; kept anonymously so list sizes stay true"),
)
