"""The tags domain's entries in the per-customer data registry."""

from yutang.kit.personal_data import KEEP, CustomerTable, collect, move
from yutang.tags import service
from yutang.tags.models import CustomerTag

TABLES = (
    CustomerTable(CustomerTag, merge=move("tags", service.move_customer), export=collect("tags", service.export),
                  erase=KEEP, reason="which tags a record carries; kept anonymously for tag counts"),
)
