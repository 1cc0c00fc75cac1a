"""The benchmark data generator (bench/generate.py) is deterministic and has the skew the benchmarks rely on."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bench import generate as generator

CUSTOMERS, EVENTS, SEED = 3000, 40_000, 7
TABLES = ["channels", "tags", "customers", "customer_tags", "memberships", "orders", "order_lines"]
LOCAL = 8 * 3600 * 1_000_000  # Asia/Shanghai offset in microseconds


def read(out: Path, name: str) -> pa.Table:
    if name == "events":
        return pa.concat_tables(pq.read_table(path) for path in sorted(out.glob("events-*.parquet")))
    return pq.read_table(out / f"{name}.parquet")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same arguments twice (once with small events files), and once with another seed."""
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("first", "again", "other")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generator, "EVENT_CHUNK_ROWS", 6_000)
        patch.setattr(generator, "EVENT_FILE_ROWS", 12_000)
        summary = generator.generate(dirs["first"], CUSTOMERS, EVENTS, SEED)
    assert summary["tables"]["events"]["files"] == 4
    assert summary["tables"]["orders"]["rows"] == 2 * CUSTOMERS
    generator.generate(dirs["again"], CUSTOMERS, EVENTS, SEED)
    generator.generate(dirs["other"], CUSTOMERS, EVENTS, SEED + 1)
    return dirs


def test_same_seed_same_contents_whatever_the_chunking(runs):
    # given two runs with the same arguments, one writing events in 4 files and one in 1
    for name in [*TABLES, "events"]:
        # then every table has the same contents
        assert read(runs["first"], name).equals(read(runs["again"], name)), name


def test_other_seed_other_contents(runs):
    for name in ["customers", "customer_tags", "memberships", "orders", "order_lines", "events"]:
        assert not read(runs["first"], name).equals(read(runs["other"], name)), name


def test_streamed_batches_are_the_rows_of_the_files(runs):
    streamed = pa.concat_tables(generator.iter_event_batches(CUSTOMERS, EVENTS, SEED, 7_777))
    assert streamed.equals(read(runs["first"], "events"))


def test_few_heavy_buyers(runs):
    orders = read(runs["first"], "orders")
    per_buyer = np.sort(np.bincount(orders["customer_id"].to_numpy()))[::-1]
    per_buyer = per_buyer[per_buyer > 0]
    top_tenth = per_buyer[: max(1, len(per_buyer) // 10)].sum()
    assert top_tenth / per_buyer.sum() > 0.30
    customers_without = CUSTOMERS - len(per_buyer)
    assert customers_without + (per_buyer == 1).sum() > CUSTOMERS / 2  # most customers buy at most once


@pytest.mark.parametrize(("name", "column"), [("orders", "placed_at"), ("events", "ts")])
def test_weekends_are_busier(runs, name, column):
    micros = read(runs["first"], name)[column].cast(pa.int64()).to_numpy()
    local_day = (micros + LOCAL) // (86_400 * 1_000_000)
    weekday = (local_day + 3) % 7  # 0 = Monday
    per_day = np.bincount(local_day - local_day.min())
    day_weekday = (np.arange(len(per_day)) + local_day.min() + 3) % 7
    assert per_day[day_weekday >= 5].mean() > 1.1 * per_day[day_weekday < 5].mean()
    assert len(np.unique(weekday)) == 7


def test_events_are_unique_well_formed_and_after_first_touch(runs):
    events = read(runs["first"], "events")
    assert events.num_rows == EVENTS
    assert pc.count_distinct(events["message_id"]).as_py() == EVENTS
    anonymous = pc.mean(events["customer_id"].is_null().cast(pa.int8())).as_py()
    assert 0.07 < anonymous < 0.13
    counts = dict(zip(*np.unique(events["event"].drop_null().to_numpy(zero_copy_only=False), return_counts=True),
                      strict=True))
    assert counts["Product Viewed"] > counts["Product Added"] > counts["Checkout Started"] > counts["Order Completed"]
    first_seen = read(runs["first"], "customers")["first_seen_at"].cast(pa.int64()).to_numpy()
    known = events.filter(events["customer_id"].is_valid())
    ts = known["ts"].cast(pa.int64()).to_numpy()
    assert (ts >= first_seen[known["customer_id"].to_numpy() - 1]).all()
    assert (events["received_at"].cast(pa.int64()).to_numpy() >= events["ts"].cast(pa.int64()).to_numpy()).all()


def test_money_is_integer_fen_and_adds_up(runs):
    orders, lines = read(runs["first"], "orders"), read(runs["first"], "order_lines")
    for table, columns in ((orders, ["total_fen", "paid_fen", "refunded_fen"]),
                           (lines, ["unit_price_fen", "amount_fen"])):
        for column in columns:
            assert pa.types.is_integer(table.schema.field(column).type), column
    totals = np.bincount(lines["order_id"].to_numpy(), weights=lines["amount_fen"].to_numpy())[1:]
    assert (totals == orders["total_fen"].to_numpy()).all()
    paid, refunded = orders["paid_fen"].to_numpy(), orders["refunded_fen"].to_numpy()
    assert ((refunded <= paid) & (paid <= orders["total_fen"].to_numpy())).all()
