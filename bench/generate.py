"""Deterministic synthetic data for the benchmarks: customers, tags, memberships, orders, lines and events.

    python -m bench.generate --customers 1000000 --events 20000000 --seed 42 --out bench/out

Everything is a pure function of the arguments (seed, sizes, workspace, as-of date) and the pinned numpy:
the same arguments write the same Parquet contents. Customers and orders are drawn whole with numpy
Generators; events are a function of their global row number (a counter-based hash per random stream), so
they can be produced in any chunking — the files and `iter_event_batches` yield identical rows — and
20M events never sit in memory at once.

Shape of the data (see bench/README.md):
- customer ids 1..N follow first_seen_at (sign-ups over the 730 days before the as-of date, growing, with
  Double-11 / 618 spikes); first channels with the demo brand's shares;
- orders: a lognormal purchase propensity per customer (times tenure and first channel) shared out by a
  multinomial, so most customers have 0-1 orders and a heavy tail buys a lot; the total is exact;
- order and event times follow a calendar in Asia/Shanghai local time (weekends and evenings heavier,
  Double-11 / 618 / Double-12 spikes, the midnight rush on 11.11) converted to UTC;
- events: per-customer activity is heavy-tailed and correlated with orders; every event of a customer is at
  or after their first_seen_at; about 10% are anonymous (more before the pool has grown); the track mix is
  a shop funnel, views >> adds >> checkouts >> completed orders (only buyers complete orders).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_AS_OF = date(2026, 11, 16)  # window end (exclusive): local midnight, Asia/Shanghai
WINDOW_DAYS = 730
TZ_OFFSET = timedelta(hours=8)  # Asia/Shanghai: UTC+8 all year, no DST since 1991
EVENT_CHUNK_ROWS = 1_000_000  # rows generated at once and written as one row group
EVENT_FILE_ROWS = 2_000_000  # rows per events-NNN.parquet
ANONYMOUS_SHARE = 0.10
COMPRESSION = "zstd"

SECOND = 1_000_000  # timestamps are int64 microseconds since the epoch, UTC
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# channel_id, code, name, kind, share of first touches, orders can be placed there
CHANNELS = [
    (1, "wechat-oa", "公众号 · 鱼塘茶事", "wechat_service_account", 0.12, False),
    (2, "mini-program", "小程序商城", "mini_program", 0.18, True),
    (3, "wecom-guides", "企业微信 · 导购", "wecom_staff", 0.16, True),
    (4, "group-vip", "会员福利群", "customer_group", 0.04, False),
    (5, "store-jingan", "上海静安门店", "store", 0.12, True),
    (6, "tmall-flagship", "天猫旗舰店", "tmall_shop", 0.20, True),
    (7, "jd-store", "京东自营店", "jd_shop", 0.08, True),
    (8, "douyin-shop", "抖音小店", "douyin_shop", 0.08, True),
    (9, "ads-moments", "朋友圈广告", "paid_ads", 0.02, False),
]
ORDER_CHANNEL_SHARES = {2: 0.30, 3: 0.14, 5: 0.14, 6: 0.24, 7: 0.09, 8: 0.09}  # orders not in the first channel
# by first channel: how likely to buy (orders) and how much they browse the brand's own touchpoints (events)
BUY_FACTOR = np.array([0, 0.7, 1.1, 1.3, 1.2, 1.3, 1.1, 1.0, 0.9, 0.5])
BROWSE_FACTOR = np.array([0, 1.2, 1.4, 1.1, 1.3, 0.5, 0.45, 0.4, 0.5, 0.9])
# extra memberships joined later (the channel of first touch and every channel ordered in are memberships too)
EXTRA_MEMBERSHIP = {1: 0.30, 2: 0.30, 3: 0.20, 4: 0.07}

# sku, name, category, price in fen — the demo tea brand's catalogue, widened; listed by popularity
PRODUCTS = [
    ("GT-001", "明前龙井 100g", "绿茶", 16800), ("BT-001", "正山小种 150g", "红茶", 9800),
    ("OT-001", "铁观音 250g", "乌龙茶", 15800), ("GT-002", "碧螺春 100g", "绿茶", 12800),
    ("PT-001", "普洱熟茶饼 357g", "普洱", 26800), ("TW-001", "汝窑盖碗", "茶具", 8800),
    ("BT-002", "滇红金芽 100g", "红茶", 13800), ("OT-002", "大红袍 125g", "乌龙茶", 19800),
    ("WT-001", "福鼎白毫银针 100g", "白茶", 22800), ("FT-001", "茉莉花茶 100g", "花茶", 5800),
    ("GF-001", "新春礼盒", "礼盒", 39800), ("GT-003", "黄山毛峰 100g", "绿茶", 9800),
    ("BT-003", "金骏眉 50g", "红茶", 25800), ("OT-003", "凤凰单丛 100g", "乌龙茶", 16800),
    ("WT-002", "白牡丹饼 300g", "白茶", 18800), ("TW-002", "便携旅行茶具", "茶具", 15900),
    ("SN-001", "桂花糕 200g", "茶点", 3900), ("PT-002", "普洱生茶饼 357g", "普洱", 32800),
    ("FT-002", "桂花乌龙 80g", "花茶", 6800), ("GF-002", "中秋茶礼", "礼盒", 45800),
    ("GT-004", "安吉白茶 50g", "绿茶", 13800), ("TW-003", "紫砂壶 西施", "茶具", 58800),
    ("SN-002", "绿豆糕 240g", "茶点", 3500), ("BT-004", "祁门红茶 100g", "红茶", 11800),
    ("OT-004", "冻顶乌龙 150g", "乌龙茶", 12800), ("WT-003", "寿眉散茶 250g", "白茶", 9800),
    ("FT-003", "玫瑰花茶 50g", "花茶", 4800), ("GF-003", "企业定制礼盒", "礼盒", 68800),
    ("TW-004", "玻璃公道杯", "茶具", 4900), ("SN-003", "凤梨酥 6枚", "茶点", 5800),
    ("GT-005", "六安瓜片 100g", "绿茶", 14800), ("PT-003", "小青柑 10颗", "普洱", 8800),
    ("TW-005", "竹制茶盘", "茶具", 19800), ("BT-005", "英德红茶 100g", "红茶", 7800),
    ("OT-005", "东方美人 50g", "乌龙茶", 21800), ("GF-004", "端午茶礼", "礼盒", 29800),
]
SKU_WEIGHTS = 1.0 / np.arange(1, len(PRODUCTS) + 1) ** 0.9

# tag_id = position + 1; popularity is Zipf-like over TAG_POPULARITY (most popular first), not over ids
TAGS = [
    ("兴趣偏好", "绿茶"), ("兴趣偏好", "红茶"), ("兴趣偏好", "乌龙茶"), ("兴趣偏好", "普洱"), ("兴趣偏好", "白茶"),
    ("兴趣偏好", "花茶"), ("兴趣偏好", "茶具"), ("兴趣偏好", "礼盒"),
    ("客户来源", "门店扫码"), ("客户来源", "直播间"), ("客户来源", "老带新"), ("客户来源", "社群裂变"),
    ("客户来源", "线下活动"),
    ("服务标记", "VIP"), ("服务标记", "需回访"), ("服务标记", "投诉过"), ("服务标记", "企业采购"),
    ("服务标记", "送礼需求"),
    ("生命周期", "新客"), ("生命周期", "活跃"), ("生命周期", "沉睡"), ("生命周期", "流失预警"), ("生命周期", "复购"),
    ("价格偏好", "价格敏感"), ("价格偏好", "高客单"), ("价格偏好", "券敏感"), ("价格偏好", "只买大促"),
    ("渠道偏好", "偏好小程序"), ("渠道偏好", "偏好门店"), ("渠道偏好", "偏好电商"),
]
TAG_POPULARITY = [20, 1, 19, 9, 3, 24, 14, 2, 28, 10, 7, 26, 30, 11, 5, 15, 21, 8, 4, 23, 29, 6, 12, 27, 18, 25, 13,
                  22, 16, 17]
TAGS_PER_CUSTOMER = 1.6

# province, city, weight
CITIES = [
    ("上海", "上海", 14), ("北京", "北京", 10), ("浙江", "杭州", 8), ("广东", "深圳", 7), ("广东", "广州", 6),
    ("江苏", "苏州", 5), ("江苏", "南京", 5), ("四川", "成都", 5), ("湖北", "武汉", 4), ("重庆", "重庆", 4),
    ("陕西", "西安", 3), ("天津", "天津", 3), ("浙江", "宁波", 3), ("湖南", "长沙", 3), ("福建", "厦门", 3),
    ("福建", "福州", 2), ("山东", "青岛", 2), ("山东", "济南", 2), ("河南", "郑州", 2), ("江苏", "无锡", 2),
    ("安徽", "合肥", 2), ("云南", "昆明", 2), ("辽宁", "沈阳", 1.5), ("辽宁", "大连", 1.5), ("广东", "东莞", 1.5),
    ("广东", "佛山", 1.5), ("浙江", "温州", 1.5), ("江西", "南昌", 1), ("广西", "南宁", 1), ("贵州", "贵阳", 1),
    ("黑龙江", "哈尔滨", 1), ("吉林", "长春", 1), ("山西", "太原", 1), ("河北", "石家庄", 1), ("海南", "海口", 1),
]
SHANGHAI = 0
UNKNOWN_CITY_SHARE = 0.08
GENDERS = ["female", "male", "unknown"]
GENDER_SHARES = [0.56, 0.34, 0.10]
CAMPAIGNS = ["双11预热", "618年中大促", "新客首单礼", "门店开业", "直播间专享", "老带新有礼", "朋友圈广告投放"]

ORDER_STATUSES = ["pending", "paid", "shipped", "completed", "partially_refunded", "refunded", "cancelled"]
PENDING, PAID, SHIPPED, COMPLETED, PARTIALLY_REFUNDED, REFUNDED, CANCELLED = range(7)
LINES_PER_ORDER = ([1, 2, 3, 4, 5], [0.58, 0.26, 0.10, 0.04, 0.02])
QUANTITIES = ([1, 2, 3, 4, 5, 6], [0.76, 0.16, 0.05, 0.015, 0.01, 0.005])
PROMO_PRICE_PCT = 85  # line amounts on promotion days

EVENT_TYPES = ["track", "page", "identify"]
EVENT_NAMES = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Article Read",
               "Signed In", "Coupon Claimed", "Message Clicked"]
VIEWED, ADDED, CHECKOUT, COMPLETED_EVENT, ARTICLE, SIGNED_IN, COUPON, MESSAGE = range(8)
TYPE_SHARES_KNOWN = [0.87, 0.09, 0.04]
TYPE_SHARES_ANONYMOUS = [0.88, 0.12, 0.0]
TRACK_SHARES_KNOWN = [0.50, 0.10, 0.045, 0.025, 0.12, 0.08, 0.06, 0.07]
TRACK_SHARES_ANONYMOUS = [0.72, 0.07, 0.0, 0.0, 0.19, 0.0, 0.02, 0.0]
ARTICLES = 40
SIGN_IN_METHODS = (["wechat", "phone", "password"], [0.62, 0.30, 0.08])
COUPONS = [("C-NEW-10", 1000), ("C-FULL-20", 2000), ("C-VIP-50", 5000), ("C-D11-100", 10000), ("C-618-60", 6000),
           ("C-BDAY-30", 3000)]
MESSAGE_CAMPAIGNS = [("wecom", "导购一对一"), ("wecom", "社群早报"), ("wecom", "新品试饮邀请"),
                     ("wechat_template", "订单发货提醒"), ("wechat_template", "积分到期提醒"),
                     ("wechat_template", "会员日"), ("sms", "双11预售"), ("sms", "618返场"),
                     ("sms", "生日礼券"), ("email", "月度茶讯"), ("wecom", "沉睡唤醒"), ("sms", "优惠券到期")]
PAGES = [("首页", "/pages/index/index"), ("商品详情", "/pages/goods/detail"), ("分类", "/pages/category/index"),
         ("购物车", "/pages/cart/index"), ("个人中心", "/pages/user/index"), ("茶知识", "/pages/article/list"),
         ("会员权益", "/pages/member/benefits"), ("门店", "/pages/store/list")]
PAGE_WEIGHTS = [0.30, 0.25, 0.12, 0.10, 0.08, 0.07, 0.05, 0.03]

# hour-of-day profiles, local time: evenings heavy; weekends flatter through the day; promotion days' midnight rush
HOURS_WEEKDAY = np.array([0.35, 0.20, 0.12, 0.08, 0.07, 0.10, 0.25, 0.55, 0.80, 0.90, 1.00, 1.05, 1.15, 1.00, 0.95,
                          0.95, 1.00, 1.05, 1.15, 1.35, 1.60, 1.80, 1.65, 1.00])
HOURS_WEEKEND = np.array([0.50, 0.30, 0.18, 0.10, 0.08, 0.08, 0.15, 0.30, 0.55, 0.85, 1.10, 1.20, 1.25, 1.20, 1.15,
                          1.15, 1.15, 1.15, 1.20, 1.40, 1.60, 1.70, 1.50, 1.00])
HOURS_PEAK_BOOST = np.array([8.0, 3.0, 1.5] + [1.0] * 17 + [1.5, 1.5, 1.5, 1.5])

# random streams (SeedSequence spawn keys)
_CALENDAR, _CUSTOMERS, _PROFILE, _ORDERS, _MEMBERSHIPS, _TAGS, _EVENTS, _IDS = range(1, 9)


# ---------------------------------------------------------------------------------------------------- public API

def generate(out_dir: str | Path, customers: int, events: int, seed: int, workspace_id: int = 1, *,
             orders: int | None = None, as_of: date = DEFAULT_AS_OF) -> dict:
    """Write every table as Parquet into out_dir and return a summary (rows, bytes, seconds per table)."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("events-*.parquet"):
        stale.unlink()
    population = _population(customers, seed, orders=orders, as_of=as_of)
    tables: dict[str, dict] = {}

    def write(name: str, table: pa.Table, begun: float) -> None:
        path = out / f"{name}.parquet"
        pq.write_table(table, path, compression=COMPRESSION)
        tables[name] = {"rows": table.num_rows, "bytes": path.stat().st_size, "files": 1,
                        "seconds": round(time.perf_counter() - begun, 2)}

    write("channels", _channels_table(), time.perf_counter())
    write("tags", _tags_table(), time.perf_counter())
    begun = time.perf_counter()
    write("customers", _customers_table(population, workspace_id), begun)
    begun = time.perf_counter()
    write("customer_tags", _customer_tags_table(population, workspace_id), begun)
    begun = time.perf_counter()
    order_table, line_table, order_channels = _orders_tables(population, workspace_id)
    write("orders", order_table, begun)
    begun = time.perf_counter()
    write("order_lines", line_table, begun)
    begun = time.perf_counter()
    write("memberships", _memberships_table(population, workspace_id, order_channels), begun)
    del order_table, line_table, order_channels

    begun = time.perf_counter()
    plan = _EventPlan(population, events, workspace_id)
    files = 0
    with ThreadPoolExecutor(max_workers=1) as pool:  # write one chunk while the next is generated
        pending = None
        writer = None
        for start in range(0, events, EVENT_CHUNK_ROWS):
            chunk = plan.chunk(start, min(start + EVENT_CHUNK_ROWS, events))
            if pending is not None:
                pending.result()
            if start % EVENT_FILE_ROWS == 0:
                if writer is not None:
                    writer.close()
                writer = pq.ParquetWriter(out / f"events-{files:03d}.parquet", EVENTS_SCHEMA, compression=COMPRESSION)
                files += 1
            pending = pool.submit(writer.write_table, chunk, row_group_size=EVENT_CHUNK_ROWS)
        if pending is not None:
            pending.result()
        if writer is not None:
            writer.close()
    if files == 0:  # no events asked for: still leave a readable (empty) file
        pq.write_table(EVENTS_SCHEMA.empty_table(), out / "events-000.parquet", compression=COMPRESSION)
        files = 1
    size = sum(path.stat().st_size for path in out.glob("events-*.parquet"))
    tables["events"] = {"rows": events, "bytes": size, "files": files,
                        "seconds": round(time.perf_counter() - begun, 2)}
    clock = population.clock
    return {
        "seed": seed, "workspace_id": workspace_id, "customers": customers, "orders": population.orders,
        "events": events, "as_of": as_of.isoformat(), "timezone": "Asia/Shanghai",
        "window_utc": [_iso(clock.start), _iso(clock.end)], "out": str(out),
        "tables": tables, "bytes": sum(t["bytes"] for t in tables.values()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def iter_event_batches(customers: int, events: int, seed: int, batch_rows: int, *, workspace_id: int = 1,
                       orders: int | None = None, as_of: date = DEFAULT_AS_OF, start: int = 0) -> Iterator[pa.Table]:
    """Yield the events of `generate` with the same arguments, in file order, batch_rows rows at a time.

    start skips to that row of the stream (rows are a function of their number, so nothing before is built)."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    plan = _EventPlan(_population(customers, seed, orders=orders, as_of=as_of), events, workspace_id)
    for first in range(start, events, batch_rows):
        yield plan.chunk(first, min(first + batch_rows, events))


EVENTS_SCHEMA = pa.schema([
    ("workspace_id", pa.int64()), ("message_id", pa.string()), ("type", pa.string()), ("event", pa.string()),
    ("customer_id", pa.int64()), ("anonymous_id", pa.string()), ("user_id", pa.string()),
    ("properties", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("received_at", pa.timestamp("us", tz="UTC")),
])
TIMESTAMP = pa.timestamp("us", tz="UTC")


# ---------------------------------------------------------------------------------------------------- calendar

@dataclass
class _Calendar:
    """Hourly bins over the window, in UTC microseconds, with the local calendar of each day."""

    start: int  # UTC instant of local midnight on the first day
    days: int
    weekday: np.ndarray  # 0 = Monday, per local day
    month: np.ndarray
    day: np.ndarray

    @property
    def end(self) -> int:
        return self.start + self.days * DAY

    @property
    def edges(self) -> np.ndarray:
        return self.start + np.arange(self.days * 24 + 1, dtype=np.int64) * HOUR

    def promo_days(self) -> np.ndarray:
        """Days priced at PROMO_PRICE_PCT: Double-11 (Nov 1-11), 618 (Jun 1-18) and Double-12."""
        return (((self.month == 11) & (self.day <= 11)) | ((self.month == 6) & (self.day <= 18))
                | ((self.month == 12) & (self.day == 12)))

    def weights(self, *, weekend: float, promo: float, growth: float, rng: np.random.Generator | None) -> np.ndarray:
        """Hourly intensity (days*24), before any population factor."""
        m, d = self.month, self.day
        daily = np.ones(self.days)
        daily[self.weekday >= 5] *= weekend
        daily[self.weekday == 4] *= 1 + (weekend - 1) * 0.25
        daily *= np.linspace(1 - growth, 1 + growth, self.days)
        boosts = [
            ((m == 10) & (d >= 24) | (m == 11) & (d <= 10), 0.6),  # Double-11 presale
            ((m == 11) & (d == 11), 7.0), ((m == 11) & (d == 12), 1.0),
            ((m == 6) & (d <= 17), 0.4), ((m == 6) & (d == 18), 4.0), ((m == 6) & (d == 19), 0.5),
            ((m == 12) & (d == 12), 1.5),
            ((m == 1) & (d >= 25) | (m == 2) & (d <= 10), -0.25),  # around the Spring Festival, parcels stop
        ]
        for mask, boost in boosts:
            daily[mask] *= 1 + boost * promo
        if rng is not None:
            daily *= rng.lognormal(0.0, 0.07, self.days)
        peak = ((m == 11) & (d == 11)) | ((m == 6) & (d == 18))
        hours = np.where((self.weekday >= 5)[:, None], HOURS_WEEKEND / HOURS_WEEKEND.sum(),
                         HOURS_WEEKDAY / HOURS_WEEKDAY.sum())
        boosted = (HOURS_WEEKDAY * HOURS_PEAK_BOOST) / (HOURS_WEEKDAY * HOURS_PEAK_BOOST).sum()
        hours[peak] = boosted
        return (daily[:, None] * hours).ravel()

    def local_day(self, ts: np.ndarray) -> np.ndarray:
        return (ts - self.start) // DAY


def _calendar(as_of: date) -> _Calendar:
    first = as_of - timedelta(days=WINDOW_DAYS)
    start = datetime(first.year, first.month, first.day, tzinfo=timezone(TZ_OFFSET))
    days = np.arange(np.datetime64(first.isoformat(), "D"), np.datetime64(as_of.isoformat(), "D"))
    months = days.astype("datetime64[M]")
    return _Calendar(
        start=int(start.timestamp()) * SECOND, days=WINDOW_DAYS,
        weekday=((days.astype(np.int64) + 3) % 7).astype(np.int8),  # 1970-01-01 was a Thursday
        month=(months.astype(np.int64) % 12 + 1).astype(np.int8),
        day=((days - months.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int8))


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.empty(len(weights) + 1)
    cdf[0] = 0.0
    np.cumsum(weights, out=cdf[1:])
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    return cdf


_BELOW_ONE = np.nextafter(1.0, 0.0)


def _sample(cdf: np.ndarray, start: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse CDF over hourly bins, linear within a bin: (UTC microseconds, bin index)."""
    u = np.clip(u, 0.0, _BELOW_ONE)
    index = np.searchsorted(cdf, u, side="right") - 1
    low = cdf[index]
    frac = (u - low) / (cdf[index + 1] - low)
    return start + index * HOUR + (frac * HOUR).astype(np.int64), index


def _cdf_at(cdf: np.ndarray, start: int, ts: np.ndarray) -> np.ndarray:
    offset = ts - start
    index = np.clip(offset // HOUR, 0, len(cdf) - 2)
    frac = (offset - index * HOUR) / HOUR
    return cdf[index] + frac * (cdf[index + 1] - cdf[index])


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / SECOND, tz=UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------------- randomness

def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _keys(seed: int, stream: int, count: int) -> np.ndarray:
    return np.random.SeedSequence([seed, stream]).generate_state(count, dtype=np.uint64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection on uint64 that scrambles well."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _uniform(rows: np.ndarray, key: np.uint64) -> np.ndarray:
    """A uniform [0, 1) per row number: counter-based, so any chunking of the rows gives the same values."""
    return (_mix64(rows * _GOLDEN + key) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _pick(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index into a categorical distribution given by its cumulative weights (last = total)."""
    return np.minimum(np.searchsorted(cumulative, u * cumulative[-1], side="right"), len(cumulative) - 1)


# ---------------------------------------------------------------------------------------------------- strings

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_chars(words: list[np.ndarray]) -> np.ndarray:
    """(n, 16 * len(words)) ASCII hex digits of big-endian uint64 words."""
    raw = np.stack(words, axis=1).astype(">u8").view(np.uint8)
    chars = np.empty((raw.shape[0], raw.shape[1] * 2), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    return chars


def _uuid_chars(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    chars = _hex_chars([high, low])
    out = np.full((chars.shape[0], 36), ord("-"), dtype=np.uint8)
    for src, dst in ((0, 0), (8, 9), (12, 14), (16, 19), (20, 24)):
        width = {0: 8, 20: 12}.get(src, 4)
        out[:, dst:dst + width] = chars[:, src:src + width]
    return out


def _fixed_strings(chars: np.ndarray) -> pa.Array:
    """A string array from an (n, width) ASCII byte matrix, without Python objects."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars).ravel()
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _decimal_chars(values: np.ndarray, digits: int) -> np.ndarray:
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + ord("0")).astype(np.uint8)


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _timestamps(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, type=TIMESTAMP, mask=null)


# ---------------------------------------------------------------------------------------------------- customers

@dataclass
class _Population:
    """What every table needs to know about the customers (index i is customer_id i + 1)."""

    seed: int
    clock: _Calendar
    first_seen: np.ndarray  # int64 UTC µs, non-decreasing in customer_id
    first_channel: np.ndarray  # int8 channel_id
    gender: np.ndarray  # index into GENDERS
    city: np.ndarray  # index into CITIES, len(CITIES) = unknown
    order_counts: np.ndarray
    activity: np.ndarray  # relative event intensity per unit of time
    app_user_id: pa.Array

    @property
    def size(self) -> int:
        return len(self.first_seen)

    @property
    def orders(self) -> int:
        return int(self.order_counts.sum())


def _population(customers: int, seed: int, *, orders: int | None, as_of: date) -> _Population:
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    orders = 2 * customers if orders is None else orders
    if orders < 0:
        raise ValueError("orders must be non-negative")
    clock = _calendar(as_of)
    rng = _rng(seed, _CUSTOMERS)
    signups = _cdf(clock.weights(weekend=1.2, promo=0.6, growth=0.4, rng=_rng(seed, _CALENDAR)))
    # stratified quantiles: sorted sign-up times, so customer ids grow with first_seen_at
    first_seen, _ = _sample(signups, clock.start, (np.arange(customers) + rng.random(customers)) / customers)
    shares = np.array([c[4] for c in CHANNELS])
    first_channel = (rng.choice(len(CHANNELS), size=customers, p=shares / shares.sum()) + 1).astype(np.int8)
    gender = rng.choice(len(GENDERS), size=customers, p=GENDER_SHARES).astype(np.int8)
    city_weights = np.array([c[2] for c in CITIES], dtype=float)
    city = rng.choice(len(CITIES), size=customers, p=city_weights / city_weights.sum()).astype(np.int8)
    city[(first_channel == 5) & (rng.random(customers) < 0.85)] = SHANGHAI  # the store is in Shanghai
    city[rng.random(customers) < UNKNOWN_CITY_SHARE] = len(CITIES)

    tenure = (clock.end - first_seen) / (clock.end - clock.start)
    sigma = 1.5
    propensity = rng.lognormal(-sigma * sigma / 2, sigma, customers) * (0.04 + tenure) * BUY_FACTOR[first_channel]
    order_counts = rng.multinomial(orders, propensity / propensity.sum()) if orders else np.zeros(customers, int)
    activity = (rng.lognormal(0.0, 1.1, customers) * (1 + 0.6 * np.minimum(order_counts, 20)) ** 0.6
                * BROWSE_FACTOR[first_channel])

    # app user ids: "u" + 10 digits, a seeded affine bijection of the customer id (unique, not sequential)
    multiplier = int(_keys(seed, _IDS, 1)[0] % 800_000_000) + 100_000_001
    while multiplier % 2 == 0 or multiplier % 5 == 0:
        multiplier += 1
    ids = np.arange(1, customers + 1, dtype=np.int64)
    digits = _decimal_chars((ids * multiplier + 1_234_567_891) % 10**10, 10)
    app_user_id = _fixed_strings(np.hstack([np.full((customers, 1), ord("u"), np.uint8), digits]))
    return _Population(seed, clock, first_seen, first_channel, gender, city, order_counts.astype(np.int64),
                       activity, app_user_id)


def _channels_table() -> pa.Table:
    return pa.table({
        "channel_id": pa.array([c[0] for c in CHANNELS], pa.int32()), "code": [c[1] for c in CHANNELS],
        "name": [c[2] for c in CHANNELS], "kind": [c[3] for c in CHANNELS],
    })


def _tags_table() -> pa.Table:
    return pa.table({"tag_id": pa.array(range(1, len(TAGS) + 1), pa.int32()),
                     "tag_group": [g for g, _ in TAGS], "name": [n for _, n in TAGS]})


def _customers_table(pop: _Population, workspace_id: int) -> pa.Table:
    n, clock = pop.size, pop.clock
    rng = _rng(pop.seed, _PROFILE)
    ids = np.arange(1, n + 1, dtype=np.int64)
    as_of_day = clock.end // DAY
    age = np.clip(rng.normal(34, 9, n), 18, 75)
    birthday = (as_of_day - age * 365.25).astype(np.int32)
    no_birthday = rng.random(n) < 0.38

    day = clock.local_day(pop.first_seen)
    month, dom = clock.month[day], clock.day[day]
    d11 = ((month == 10) & (dom >= 20)) | ((month == 11) & (dom <= 11))
    d618 = (month == 6) & (dom <= 18)
    u = rng.random(n)
    campaign = np.full(n, -1)
    other = rng.integers(2, len(CAMPAIGNS) - 1, n)
    campaign = np.where(u < 0.25, other, campaign)
    campaign = np.where(d11 & (u < 0.6), 0, campaign)
    campaign = np.where(d618 & (u < 0.5), 1, campaign)
    campaign = np.where(pop.first_channel == 9, len(CAMPAIGNS) - 1, campaign)

    keys = _keys(pop.seed, _IDS, 6)[1:5]
    words = [_mix64(ids.astype(np.uint64) ^ key) for key in keys]  # the first word alone is unique per id
    unknown_city = pop.city == len(CITIES)
    city_index = pa.array(np.minimum(pop.city, len(CITIES) - 1).astype(np.int32), mask=unknown_city)
    return pa.table({
        "workspace_id": pa.array(np.full(n, workspace_id, np.int64)),
        "customer_id": pa.array(ids),
        "gender": pa.array(GENDERS).take(pa.array(pop.gender.astype(np.int32))),
        "birthday": pa.array(birthday, pa.date32(), mask=no_birthday),
        "province": pa.array([c[0] for c in CITIES]).take(city_index),
        "city": pa.array([c[1] for c in CITIES]).take(city_index),
        "first_channel_id": pa.array(pop.first_channel.astype(np.int32)),
        "source_campaign": pa.array(CAMPAIGNS).take(pa.array(np.maximum(campaign, 0).astype(np.int32),
                                                             mask=campaign < 0)),
        "first_seen_at": _timestamps(pop.first_seen),
        "refuses_personalised": pa.array(rng.random(n) < 0.03),
        "phone_hash": _fixed_strings(_hex_chars(words)),
        "app_user_id": pop.app_user_id,
    })


def _customer_tags_table(pop: _Population, workspace_id: int) -> pa.Table:
    n, clock = pop.size, pop.clock
    rng = _rng(pop.seed, _TAGS)
    popularity = 1.0 / np.arange(1, len(TAGS) + 1) ** 0.9
    popularity *= TAGS_PER_CUSTOMER / popularity.sum()
    customer_parts, tag_parts = [], []
    for rank, tag_id in enumerate(TAG_POPULARITY):
        chosen = np.flatnonzero(rng.random(n) < min(popularity[rank], 0.9))
        customer_parts.append(chosen)
        tag_parts.append(np.full(len(chosen), tag_id, np.int32))
    index = np.concatenate(customer_parts)
    order = np.argsort(index, kind="stable")
    index, tag_id = index[order], np.concatenate(tag_parts)[order]
    seen = pop.first_seen[index]
    added = seen + (rng.random(len(index)) ** 1.5 * (clock.end - seen)).astype(np.int64)
    return pa.table({
        "workspace_id": pa.array(np.full(len(index), workspace_id, np.int64)),
        "customer_id": pa.array(index + 1), "tag_id": pa.array(tag_id), "added_at": _timestamps(added),
    })


# ---------------------------------------------------------------------------------------------------- orders

def _orders_tables(pop: _Population, workspace_id: int) -> tuple[pa.Table, pa.Table, tuple]:
    clock, counts = pop.clock, pop.order_counts
    rng = _rng(pop.seed, _ORDERS)
    cdf = _cdf(clock.weights(weekend=1.35, promo=1.0, growth=0.25, rng=_rng(pop.seed, _CALENDAR + 100)))
    total = int(counts.sum())
    owner = np.repeat(np.arange(pop.size), counts)
    seen = pop.first_seen[owner]
    low = _cdf_at(cdf, clock.start, seen)
    placed, _ = _sample(cdf, clock.start, low + rng.random(total) * (1.0 - low))
    placed = np.clip(placed, seen, clock.end - 1)

    sells = np.array([False] + [c[5] for c in CHANNELS])
    codes = np.array(list(ORDER_CHANNEL_SHARES))
    shares = np.array(list(ORDER_CHANNEL_SHARES.values()))
    own_channel = pop.first_channel[owner]
    channel = np.where(sells[own_channel] & (rng.random(total) < 0.65), own_channel,
                       codes[rng.choice(len(codes), size=total, p=shares / shares.sum())]).astype(np.int32)
    # marketplace / store / guide customers are usually first seen at their first purchase
    firsts = np.cumsum(counts) - counts
    at_signup = (counts > 0) & sells[pop.first_channel] & (rng.random(pop.size) < 0.75)
    first_orders = firsts[at_signup]
    delay = rng.exponential(20 * MINUTE, len(first_orders)).astype(np.int64)
    placed[first_orders] = np.minimum(pop.first_seen[at_signup] + delay, clock.end - 1)
    channel[first_orders] = pop.first_channel[at_signup]

    by_time = np.argsort(placed, kind="stable")
    placed, owner, channel = placed[by_time], owner[by_time], channel[by_time]
    order_ids = np.arange(1, total + 1, dtype=np.int64)

    lines_per = rng.choice(LINES_PER_ORDER[0], size=total, p=LINES_PER_ORDER[1])
    line_starts = np.cumsum(lines_per) - lines_per
    line_order = np.repeat(np.arange(total), lines_per)
    line_no = (np.arange(len(line_order)) - line_starts[line_order] + 1).astype(np.int32)
    sku = _pick(np.cumsum(SKU_WEIGHTS), rng.random(len(line_order)))
    quantity = rng.choice(QUANTITIES[0], size=len(line_order), p=QUANTITIES[1]).astype(np.int64)
    price = np.array([p[3] for p in PRODUCTS], dtype=np.int64)[sku]
    promo = clock.promo_days()[np.clip(clock.local_day(placed), 0, clock.days - 1)]
    pct = np.where(promo[line_order], PROMO_PRICE_PCT, 100)
    amount = quantity * price * pct // 100
    order_total = np.add.reduceat(amount, line_starts) if total else np.zeros(0, np.int64)

    age = clock.end - placed
    u = rng.random(total)
    status = np.select([u < 0.04, u < 0.07, u < 0.085, age < 30 * MINUTE, age < 2 * DAY, age < 8 * DAY],
                       [CANCELLED, REFUNDED, PARTIALLY_REFUNDED, PENDING, PAID, SHIPPED], COMPLETED)
    unpaid = (status == PENDING) | (status == CANCELLED)
    paid = np.where(unpaid, 0, order_total)
    partial = np.maximum(paid * rng.integers(10, 61, total) // 100, 1)
    refunded = np.select([status == REFUNDED, status == PARTIALLY_REFUNDED], [paid, partial], 0)
    paid_at = placed + 5 * SECOND + rng.exponential(90 * SECOND, total).astype(np.int64)

    ws = np.full(total, workspace_id, np.int64)
    orders = pa.table({
        "workspace_id": pa.array(ws), "order_id": pa.array(order_ids), "customer_id": pa.array(owner + 1),
        "channel_id": pa.array(channel), "status": pa.array(ORDER_STATUSES).take(pa.array(status.astype(np.int32))),
        "total_fen": pa.array(order_total), "paid_fen": pa.array(paid), "refunded_fen": pa.array(refunded),
        "placed_at": _timestamps(placed), "paid_at": _timestamps(paid_at, unpaid),
    })
    skus = pa.array([p[0] for p in PRODUCTS])
    categories = pa.array([p[2] for p in PRODUCTS])
    sku_index = pa.array(sku.astype(np.int32))
    lines = pa.table({
        "workspace_id": pa.array(np.full(len(line_order), workspace_id, np.int64)),
        "order_id": pa.array(order_ids[line_order]), "line_no": pa.array(line_no),
        "sku": skus.take(sku_index), "category": categories.take(sku_index),
        "quantity": pa.array(quantity.astype(np.int32)), "unit_price_fen": pa.array(price),
        "amount_fen": pa.array(amount),
    })
    return orders, lines, (owner, channel, placed)


def _memberships_table(pop: _Population, workspace_id: int, order_channels: tuple) -> pa.Table:
    """First channel at first touch, every channel ordered in at the first order there, a few joined later."""
    n, clock = pop.size, pop.clock
    rng = _rng(pop.seed, _MEMBERSHIPS)
    owner, channel, placed = order_channels
    members = pop.first_channel != 9  # seeing an ad is a touch, not a membership
    parts = [(np.flatnonzero(members), pop.first_channel[members].astype(np.int32), pop.first_seen[members]),
             (owner, channel, placed)]
    for channel_id, share in EXTRA_MEMBERSHIP.items():
        chosen = np.flatnonzero(rng.random(n) < share)
        seen = pop.first_seen[chosen]
        joined = seen + (rng.random(len(chosen)) ** 2 * (clock.end - seen)).astype(np.int64)
        parts.append((chosen, np.full(len(chosen), channel_id, np.int32), joined))
    index = np.concatenate([p[0] for p in parts])
    channel_ids = np.concatenate([p[1] for p in parts])
    joined = np.concatenate([p[2] for p in parts])
    key = index.astype(np.int64) * 16 + channel_ids
    order = np.lexsort((joined, key))
    key, joined = key[order], joined[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    key, joined = key[first], joined[first]
    return pa.table({
        "workspace_id": pa.array(np.full(len(key), workspace_id, np.int64)),
        "customer_id": pa.array(key // 16 + 1), "channel_id": pa.array((key % 16).astype(np.int32)),
        "joined_at": _timestamps(joined),
    })


# ---------------------------------------------------------------------------------------------------- events

_PRODUCT_EVENTS_WITH_QUANTITY = (ADDED, CHECKOUT, COMPLETED_EVENT)


class _EventPlan:
    """Everything per-row event generation needs; chunk(a, b) is a pure function of the row numbers a..b-1."""

    def __init__(self, pop: _Population, events: int, workspace_id: int):
        if events < 0:
            raise ValueError("events must be non-negative")
        self.pop, self.events, self.workspace_id = pop, events, workspace_id
        clock = pop.clock
        self.keys = _keys(pop.seed, _EVENTS, 16)
        self.cum_activity = np.concatenate([[0.0], np.cumsum(pop.activity)])
        season = clock.weights(weekend=1.3, promo=0.7, growth=0.2, rng=_rng(pop.seed, _CALENDAR + 200))
        # known-customer intensity grows with the pool: the activity of everyone first seen by then
        middle = clock.edges[:-1] + HOUR // 2
        known = self.cum_activity[np.searchsorted(pop.first_seen, middle, side="right")]
        anonymous = ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE) * (season * known).sum() / season.sum()
        self.cdf = _cdf(season * (known + anonymous))
        self.anonymous_chance = anonymous / (known + anonymous)
        self.visitors = max(1000, pop.size // 2)
        self.buyer = pop.order_counts > 0
        self.templates, self.template_base = _event_templates()
        self.sku_cum = np.cumsum(SKU_WEIGHTS)
        self.names = pa.array(EVENT_NAMES)
        self.types = pa.array(EVENT_TYPES)
        self.type_cum = (np.cumsum(TYPE_SHARES_KNOWN), np.cumsum(TYPE_SHARES_ANONYMOUS))
        self.track_cum = (np.cumsum(TRACK_SHARES_KNOWN), np.cumsum(TRACK_SHARES_ANONYMOUS))

    def chunk(self, start: int, stop: int) -> pa.Table:
        pop, clock, keys = self.pop, self.pop.clock, self.keys
        n = stop - start
        rows = np.arange(start, stop, dtype=np.uint64)

        def u(stream: int) -> np.ndarray:
            return _uniform(rows, keys[stream])

        # stratified quantiles of the whole stream: times never decrease along the rows, across files too
        ts, bins = _sample(self.cdf, clock.start, (np.arange(start, stop) + u(0)) / max(self.events, 1))
        pool = np.searchsorted(pop.first_seen, ts, side="right")  # customers first seen by then
        anonymous = (u(1) < self.anonymous_chance[bins]) | (pool == 0)
        weight = self.cum_activity[pool]
        customer = np.searchsorted(self.cum_activity, u(2) * weight, side="right") - 1
        customer = np.clip(customer, 0, np.maximum(pool - 1, 0))
        customer[anonymous] = 0

        kind = np.where(anonymous, _pick(self.type_cum[1], u(3)), _pick(self.type_cum[0], u(3)))
        name = np.where(anonymous, _pick(self.track_cum[1], u(4)), _pick(self.track_cum[0], u(4)))
        name[(name == COMPLETED_EVENT) & ~self.buyer[customer]] = CHECKOUT  # only buyers complete orders

        detail = u(5)
        sku = _pick(self.sku_cum, detail)
        quantity = _pick(np.array([0.8, 0.95, 1.0]), u(6))
        base = self.template_base
        template = np.select(
            [kind == 1, kind == 2, name == VIEWED, name == ARTICLE, name == SIGNED_IN, name == COUPON, name == MESSAGE],
            [base["page"] + _pick(np.cumsum(PAGE_WEIGHTS), detail),
             base["identify"] + pop.gender[customer].astype(np.int64) * (len(CITIES) + 1) + pop.city[customer],
             base["viewed"] + sku,
             base["article"] + (detail ** 2 * ARTICLES).astype(np.int64),
             base["signed_in"] + _pick(np.cumsum(SIGN_IN_METHODS[1]), detail),
             base["coupon"] + (detail * len(COUPONS)).astype(np.int64),
             base["message"] + (detail * len(MESSAGE_CAMPAIGNS)).astype(np.int64)],
            base["quantity"] + (np.searchsorted(_PRODUCT_EVENTS_WITH_QUANTITY, name) * len(PRODUCTS) + sku) * 3
            + quantity)

        device = (u(7) < 0.25).astype(np.uint64)  # a quarter of a customer's events come from a second device
        visitor = (u(8) ** 2.5 * self.visitors).astype(np.uint64)
        subject = np.where(anonymous, np.uint64(1 << 62) + visitor,
                           (customer.astype(np.uint64) + np.uint64(1)) * np.uint64(4) + device)
        anonymous_id = _uuid_chars(_mix64(subject ^ keys[10]), _mix64(subject ^ keys[11]))
        message_id = _uuid_chars(_mix64(rows ^ keys[12]), _mix64(rows ^ keys[13]))  # high word unique per row

        latency = 50_000 + (-np.log1p(-u(9)) * 250_000).astype(np.int64)
        offline = u(10) < 0.03  # queued on the phone and flushed later
        latency += np.where(offline, (u(11) * 6 * HOUR).astype(np.int64), 0)

        track = kind == 0
        customer_index = pa.array(customer.astype(np.int64), mask=anonymous)
        return pa.table({
            "workspace_id": pa.array(np.full(n, self.workspace_id, np.int64)),
            "message_id": _fixed_strings(message_id),
            "type": self.types.take(pa.array(kind.astype(np.int32))),
            "event": self.names.take(pa.array(name.astype(np.int32), mask=~track)),
            "customer_id": pa.array(customer.astype(np.int64) + 1, mask=anonymous),
            "anonymous_id": _fixed_strings(anonymous_id),
            "user_id": pop.app_user_id.take(customer_index),
            "properties": self.templates.take(pa.array(template.astype(np.int32))),
            "ts": _timestamps(ts),
            "received_at": _timestamps(ts + latency),
        }, schema=EVENTS_SCHEMA)


def _event_templates() -> tuple[pa.Array, dict[str, int]]:
    """Every distinct properties JSON text an event can carry; rows pick one by index."""
    texts: list[str] = []
    base: dict[str, int] = {}

    def section(name: str, values: list[dict]):
        base[name] = len(texts)
        texts.extend(_json(v) for v in values)

    product = [{"sku": s, "category": c, "price_fen": p} for s, _, c, p in PRODUCTS]
    section("viewed", [dict(v, name=n) for v, (_, n, _, _) in zip(product, PRODUCTS, strict=True)])
    section("quantity", [dict(v, quantity=q, value_fen=v["price_fen"] * q)
                         for _ in _PRODUCT_EVENTS_WITH_QUANTITY for v in product for q in (1, 2, 3)])
    section("article", [{"article_id": f"a{i:03d}", "title": f"茶知识 第{i}期"} for i in range(1, ARTICLES + 1)])
    section("signed_in", [{"method": m} for m in SIGN_IN_METHODS[0]])
    section("coupon", [{"coupon_id": c, "value_fen": v} for c, v in COUPONS])
    section("message", [{"channel": ch, "campaign": cp} for ch, cp in MESSAGE_CAMPAIGNS])
    section("page", [{"name": name, "path": path} for name, path in PAGES])
    section("identify", [{"gender": g} | ({"province": c[0], "city": c[1]} if c else {})
                         for g in GENDERS for c in [*CITIES, None]])
    return pa.array(texts, pa.string()), base


# ---------------------------------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--orders", type=int, default=None, help="default: 2 per customer")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace-id", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF,
                        help=f"end of the two-year window, local date (default {DEFAULT_AS_OF})")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.customers, args.events, args.seed, args.workspace_id,
                       orders=args.orders, as_of=args.as_of)
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
