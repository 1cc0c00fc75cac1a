"""The group-buy domain's entries in the per-customer data registry."""

from yutang.groupbuy import registry
from yutang.groupbuy.models import Entry, Take
from yutang.kit.personal_data import KEEP, OMIT, CustomerTable, collect, move, scrub

TABLES = (
    CustomerTable(Entry, merge=move("groupbuy_entries", registry.move_customer),
                  export=collect("groupbuy_entries", registry.export),
                  erase=scrub("remark", "shown_name", fn=registry.erase),
                  reason="entries stay for production and sales figures; the remark and the shown name are personal"),
    CustomerTable(Take, merge=move("groupbuy_takes", registry.move_takes), export=OMIT, erase=KEEP,
                  reason="units held per item, no personal data; kept so per-person limits hold after a merge"),
)
