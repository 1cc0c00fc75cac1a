"""The stores domain's entries in the per-customer data registry."""

from yutang.kit.personal_data import CustomerTable, collect, delete, move, scrub
from yutang.stores import codes, followups, handovers, ownership
from yutang.stores.models import (
    ContactCodeAdd,
    HandoverItem,
    Ownership,
    OwnershipChange,
    StaffTask,
    StaffTaskRecipient,
)

MERGE = move("ownership", ownership.move_customer)
EXPORT = collect("ownership", ownership.export)
TABLES = (
    CustomerTable(Ownership, merge=MERGE, export=EXPORT, erase=delete(fn=ownership.release),
                  reason="the winner keeps its owner (or takes the loser's); an erased customer is released"),
    CustomerTable(OwnershipChange, merge=MERGE, export=EXPORT, erase=scrub("note", fn=ownership.erase_notes),
                  reason="who owned the customer when stays for guide figures; staff's free-text notes may name "
                         "the person"),
    CustomerTable(ContactCodeAdd, merge=move("code_adds", codes.move_adds),
                  export=collect("code_adds", codes.export_adds),
                  erase=scrub("external_userid", fn=codes.erase_adds),
                  reason="adds through a code stay for its figures; the WeCom external user id identifies the person"),
    CustomerTable(HandoverItem, merge=move("handovers", handovers.move_handover_items),
                  export=collect("handovers", handovers.export_handover_items),
                  erase=scrub("external_userid", fn=handovers.erase_handover_items),
                  reason="hand-over outcomes stay for the loss rate; the WeCom external user id identifies the person"),
    CustomerTable(StaffTask, merge=move("tasks", followups.move_tasks),
                  export=collect("tasks", followups.export_tasks), erase=delete(fn=followups.erase_tasks),
                  reason="follow-up tasks' titles and notes are staff's free text about the person"),
    CustomerTable(StaffTaskRecipient, merge=move("group_sends", followups.move_recipients),
                  export=collect("group_sends", followups.export_recipients),
                  erase=scrub("external_userid", fn=followups.erase_recipients),
                  reason="group-send results stay for the guide's figures; the WeCom external user id identifies "
                         "the person"),
)
