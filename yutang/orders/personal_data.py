"""The orders domain's entries in the per-customer data registry."""

from yutang.kit.personal_data import CustomerTable, collect, move, scrub
from yutang.orders import service
from yutang.orders.models import Order

TABLES = (
    CustomerTable(Order, merge=move("orders", service.move_customer), export=collect("orders", service.export),
                  erase=scrub("raw", fn=service.erase),
                  reason="amounts and items stay for anonymous aggregates; the raw source record holds names and "
                         "addresses"),
)
