"""The public face of group-buys (接龙): set-up, joining, the cut-off, production, pick-up and after-sales."""

from yutang.groupbuy.cutoff import cut_off, due, forecasts, pick_lists, production_plan
from yutang.groupbuy.joining import (
    entry_count,
    get_entry,
    join,
    list_entries,
    present_entries,
    public_list,
)
from yutang.groupbuy.pickup import end_line, refund, verify
from yutang.groupbuy.registry import erase, export, move_customer
from yutang.groupbuy.setup import (
    create_groupbuy,
    create_leader,
    create_point,
    get_groupbuy,
    list_groupbuys,
    list_leaders,
    list_points,
    present,
    publish,
    update_groupbuy,
)

__all__ = ["create_groupbuy", "create_leader", "create_point", "cut_off", "due", "end_line", "entry_count", "erase",
           "export", "forecasts", "get_entry", "get_groupbuy", "join", "list_entries", "list_groupbuys", "list_leaders",
           "list_points", "move_customer", "pick_lists", "present", "present_entries", "production_plan", "public_list",
           "publish", "refund", "update_groupbuy", "verify"]
