"""Acquisition per channel: the range's spend over the customers first seen through the channel in it (CAC), their
realised revenue since (ROI, the payback month) and their predicted value (LTV : CAC)."""

from datetime import date

from yutang.analytics.periods import Window
from yutang.analytics.schemas import AcquisitionOut, ChannelAcquisition
from yutang.analytics.sql import CUSTOMERS, PURCHASES, Warehouse


def prorated(entries: list[tuple[int, date, date, int]], window: Window) -> dict[int, int]:
    """Spend per channel in the window: each (channel, first day, last day, fen) entry times the share of its days
    inside the window, rounded down to the fen."""
    spent: dict[int, int] = {}
    for channel_id, first, last, fen in entries:
        days = (last - first).days + 1
        overlap = (min(last, window.last) - max(first, window.first)).days + 1
        if days > 0 and overlap > 0:
            spent[channel_id] = spent.get(channel_id, 0) + fen * overlap // days
    return spent


def compute(warehouse: Warehouse, *, workspace_id: int, window: Window, costs: dict[int, int],
            channels: dict[int, tuple]) -> AcquisitionOut:
    """Every channel with spend or new customers in the range (neither hides the other)."""
    p = {"w": workspace_id, "s": window.start, "e": window.end, "zone": window.timezone}
    month = "CAST(EXTRACT(YEAR FROM {d}) * 12 + EXTRACT(MONTH FROM {d}) AS INTEGER)"
    acquired = (f"SELECT id, first_channel_id, first_seen_at FROM customers WHERE workspace_id = %(w)s "
                f"AND status = 'active' AND first_seen_at >= %(s)s AND first_seen_at < %(e)s AND id IN ({CUSTOMERS})")
    cohorts = {channel: (n, float(predicted or 0)) for channel, n, predicted in warehouse.query(
        "SELECT a.first_channel_id, count(*), avg(s.predicted_value_fen) FROM (" + acquired + ") a "
        "LEFT JOIN customer_scores s ON s.customer_id = a.id AND s.workspace_id = %(w)s GROUP BY 1", p)}
    by_month: dict[int | None, dict[int, int]] = {}
    for channel, offset, fen in warehouse.query(
            f"SELECT a.first_channel_id, {month.format(d='CAST(o.paid_at AT TIME ZONE %(zone)s AS DATE)')} - "
            f"{month.format(d='CAST(a.first_seen_at AT TIME ZONE %(zone)s AS DATE)')}, "
            f"sum(o.paid_fen - o.refunded_fen) FROM ({acquired}) a JOIN (SELECT o.customer_id, o.paid_at, o.paid_fen, "
            f"o.refunded_fen {PURCHASES}) o ON o.customer_id = a.id AND o.paid_at >= a.first_seen_at GROUP BY 1, 2", p):
        by_month.setdefault(channel, {})[int(offset)] = int(fen)
    rows = []
    for channel in sorted(set(cohorts) | set(costs), key=lambda c: (c is None, c or 0)):
        customers, predicted = cohorts.get(channel, (0, 0.0))
        cost = costs.get(channel, 0) if channel is not None else 0
        months = by_month.get(channel, {})
        revenue = sum(months.values())
        cac = cost // customers if customers and cost else None
        payback, total = None, 0
        for offset in sorted(months):
            total += months[offset]
            if cost and total >= cost:
                payback = offset
                break
        ltv = revenue // customers + round(predicted) if customers else None
        name, domain = channels.get(channel, (None, None)) if channel is not None else (None, None)
        rows.append(ChannelAcquisition(
            channel_id=channel, name=name, domain=domain, cost_fen=cost, new_customers=customers, cac_fen=cac,
            revenue_fen=revenue, roi=(revenue - cost) / cost if cost else None, payback_month=payback, ltv_fen=ltv,
            ltv_to_cac=ltv / cac if ltv is not None and cac else None,
            note="cost_without_customers" if cost and not customers else
            ("customers_without_cost" if customers and not cost else "ok")))
    return AcquisitionOut(first_day=window.first, last_day=window.last, channels=rows)


