"""Running compiled rules on the warehouse: matching ids, previews and per-node explanations."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from yutang.kit.clock import utcnow
from yutang.segments.compiler import Context, compile_rule, piece_of
from yutang.segments.rules import All, Any_, Node, Not, dump


class Warehouse(Protocol):
    """The read side of a warehouse backend (yutang.warehouse.backends)."""

    dialect: str

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Rows of one statement with %(name)s parameters."""


def context(warehouse: Warehouse, *, workspace_id: int, timezone: str, now: datetime | None = None,
            restrict: bool = False) -> Context:
    """A compile context for this warehouse's dialect."""
    return Context(workspace_id=workspace_id, timezone=timezone, now=now or utcnow(), dialect=warehouse.dialect,
                   restrict=restrict)


def matching_ids(warehouse: Warehouse, node: Node, *, workspace_id: int, timezone: str,
                 now: datetime | None = None) -> set[int]:
    """Ids of the active customers the rule holds for now."""
    compiled = compile_rule(node, context(warehouse, workspace_id=workspace_id, timezone=timezone, now=now))
    return {row[0] for row in warehouse.query(compiled.sql, compiled.params)}


def preview(warehouse: Warehouse, node: Node, *, workspace_id: int, timezone: str, sample_size: int = 20,
            now: datetime | None = None) -> dict[str, Any]:
    """Count, a sample (newest customers first) and the spread over channels, evaluating the rule once."""
    compiled = compile_rule(node, context(warehouse, workspace_id=workspace_id, timezone=timezone, now=now))
    rows = warehouse.query(
        f"WITH m AS ({compiled.sql}) "
        "SELECT 'count' AS k, NULL AS channel_id, COUNT(*) AS n FROM m "
        "UNION ALL SELECT 'first', c.first_channel_id, COUNT(*) FROM m JOIN customers c ON c.id = m.id "
        "GROUP BY c.first_channel_id "
        "UNION ALL SELECT 'member', ms.channel_id, COUNT(*) FROM m JOIN memberships ms ON ms.customer_id = m.id "
        "AND ms.left_at IS NULL GROUP BY ms.channel_id", compiled.params)
    count = next(int(n) for k, _, n in rows if k == "count")
    spread = {"first": [], "member": []}
    for kind, channel_id, n in rows:
        if kind != "count":
            spread[kind].append({"channel_id": channel_id, "customers": int(n)})
    for values in spread.values():
        values.sort(key=lambda item: (-item["customers"], item["channel_id"] or 0))
    sample = [row[0] for row in warehouse.query(f"{compiled.sql} ORDER BY c.id DESC LIMIT {int(sample_size)}",
                                                compiled.params)] if sample_size else []
    return {"count": count, "sample": sample, "by_channel": spread["member"], "by_first_channel": spread["first"]}


def explain(warehouse: Warehouse, node: Node, *, workspace_id: int, timezone: str, customer_id: int,
            now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """(customer is active, the tree with held / observed per node) for one customer."""
    ctx = context(warehouse, workspace_id=workspace_id, timezone=timezone, now=now)
    active = bool(warehouse.query("SELECT COUNT(*) FROM customers WHERE id = %(cid)s AND workspace_id = %(w)s "
                                  "AND status = 'active'", {"cid": customer_id, "w": workspace_id})[0][0])
    return active, _explain(warehouse, node, ctx, customer_id, "rule")


def _explain(warehouse: Warehouse, node: Node, ctx: Context, customer_id: int, path: str) -> dict[str, Any]:
    if isinstance(node, All | Any_):
        key = "all" if isinstance(node, All) else "any"
        children = [_explain(warehouse, child, ctx, customer_id, f"{path}.{key}[{i}]")
                    for i, child in enumerate(getattr(node, key))]
        held = all(c["held"] for c in children) if key == "all" else any(c["held"] for c in children)
        return {"path": path, "node": key, "held": held, "children": children}
    if isinstance(node, Not):
        child = _explain(warehouse, node.not_, ctx, customer_id, f"{path}.not")
        return {"path": path, "node": "not", "held": not child["held"], "children": [child]}
    piece = piece_of(node, ctx)
    params = {**ctx.params, "cid": customer_id}
    # Held is the compiled predicate itself on this customer, so the explanation can never disagree with membership.
    held = warehouse.query(f"SELECT COUNT(*) FROM customers c WHERE c.id = %(cid)s AND c.workspace_id = %(w)s "
                           f"AND {piece.predicate}", params)[0][0] > 0
    rows = warehouse.query(piece.observe, params)
    if piece.many:
        observed: Any = [_plain(row[0]) for row in rows]
    else:
        observed = _plain(rows[0][0]) if rows and rows[0][0] is not None else piece.default
    return {"path": path, "node": node.type, "held": held, "condition": dump(node), "observed": observed}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
