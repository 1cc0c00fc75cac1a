"""The points ledger on the OLTP store: earn, redeem, reverse, adjust, expire, merge; balances and liability.

Every change locks the customer's account row first (an UPDATE or SELECT … FOR UPDATE on PostgreSQL; SQLite
units of work are BEGIN IMMEDIATE), so changes to one account are serial and the balance always equals the sum
of its entries. Each entry carries an idempotency key, unique per workspace: the same key twice changes nothing
and returns the first entry. What to take from which lot is decided by the pure core in `ledger.py`.
"""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid, NotFound
from yutang.loyalty import config, ledger
from yutang.loyalty.errors import NotEnoughPoints
from yutang.loyalty.models import LoyaltySettings, PointsAccount, PointsEntry, PointsLot
from yutang.loyalty.schemas import BalanceOut, EntryKind, LiabilityOut, LiabilityRow, LotOut
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.storage.types import UTCDateTime
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

ACCOUNTS, ENTRIES, LOTS = PointsAccount.__table__, PointsEntry.__table__, PointsLot.__table__
SETTINGS = LoyaltySettings.__table__
DEFAULT_POLICY = (config.DEFAULTS.expiry_policy, config.DEFAULTS.expiry_months, config.DEFAULTS.expiry_month_day)


def _insert_once(session: Session, table, values: dict, *, keys: list[str]):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id."""
    statement = dialect.of(session).insert_ignoring(table, keys=keys).values(**values)
    return session.execute(statement.returning(table.c.id)).scalar()


def _entry_object(entry_id: int, values: dict) -> PointsEntry:
    return PointsEntry(id=entry_id, **values)


def find_entry(session: Session, *, workspace_id: int, key: str) -> PointsEntry | None:
    """The entry written under an idempotency key, if any."""
    return session.scalar(select(PointsEntry).where(PointsEntry.workspace_id == workspace_id,
                                                    PointsEntry.idempotency_key == key))


def resolve_customer(session: Session, *, actor: Actor, customer_id: int) -> int:
    """The active customer points and coupons go to: a merged id resolves to the survivor (events and orders
    may still name it); erased customers are refused."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    if customer.status == customers_service.MERGED and customer.merged_into_id:
        customer = customers_service.get_customer(session, actor=actor, customer_id=customer.merged_into_id)
    customers_service.require_active(customer)
    return customer.id


def open_account(session: Session, actor: Actor, customer_id: int) -> int:
    customer_id = resolve_customer(session, actor=actor, customer_id=customer_id)
    _insert_once(session, ACCOUNTS, {"workspace_id": actor.workspace_id, "customer_id": customer_id, "balance": 0,
                                     "earned_total": 0, "shortfall": 0, "created_at": utcnow()},
                 keys=["workspace_id", "customer_id"])
    return customer_id


PAYLOAD = ("customer_id", "kind", "points", "balance_after", "shortfall", "reason", "source_type", "source_ref",
           "rule_id")


def _payload(entry: PointsEntry) -> dict:
    return {"entry_id": entry.id, "customer_id": entry.customer_id, "kind": entry.kind, "points": entry.points,
            "balance_after": entry.balance_after, "shortfall": entry.shortfall, "reason": entry.reason,
            "source_type": entry.source_type, "source_ref": entry.source_ref, "rule_id": entry.rule_id,
            "occurred_at": entry.occurred_at.isoformat()}


def _emit(session: Session, entry: PointsEntry) -> None:
    outbox.emit(session, workspace_id=entry.workspace_id, topic=Topic.POINTS_CHANGED, entity_id=entry.id,
                payload=_payload(entry))


# PostgreSQL writes the entry, its lot and its outbox row in one round trip (data-modifying CTEs); SQLite, which
# has no such CTEs but runs in-process, takes three statements. Nothing is written when the key already exists.
PG_WRITE = text("""
WITH e AS (
  INSERT INTO points_entries (workspace_id, customer_id, kind, points, balance_after, shortfall, idempotency_key,
    reason, source_type, source_ref, rule_id, occurred_at, member_id, detail, created_at)
  VALUES (:workspace_id, :customer_id, :kind, :points, :balance_after, 0, :idempotency_key, :reason, :source_type,
    :source_ref, :rule_id, :occurred_at, :member_id, '{}'::jsonb, :created_at)
  ON CONFLICT (workspace_id, idempotency_key) DO NOTHING RETURNING id),
l AS (
  INSERT INTO points_lots (workspace_id, customer_id, entry_id, points, remaining, expires_at, created_at)
  SELECT :workspace_id, :customer_id, id, :points, :remaining, :expires_at, :created_at FROM e)
INSERT INTO outbox (workspace_id, topic, entity_id, payload, created_at)
SELECT :workspace_id, :topic, id, CAST(:payload AS jsonb) || jsonb_build_object('entry_id', id),
  :created_at FROM e
RETURNING entity_id""").bindparams(bindparam("occurred_at", type_=UTCDateTime),
                                   bindparam("created_at", type_=UTCDateTime),
                                   bindparam("expires_at", type_=UTCDateTime))


@lru_cache(maxsize=4)
def _award_statements(store: dialect.Dialect) -> dict:
    """The award path's statements, built once per dialect so SQLAlchemy reuses their compiled form."""
    account = (ACCOUNTS.c.workspace_id == bindparam("w"), ACCOUNTS.c.customer_id == bindparam("c"))
    policy = [select(column).where(SETTINGS.c.workspace_id == bindparam("w")).scalar_subquery()
              for column in (SETTINGS.c.expiry_policy, SETTINGS.c.expiry_months, SETTINGS.c.expiry_month_day)]
    return {
        # Locks the account row, moves the balance and reads the expiry policy: one round trip.
        "move": update(ACCOUNTS).where(*account).values(
            balance=ACCOUNTS.c.balance + bindparam("p"), earned_total=ACCOUNTS.c.earned_total + bindparam("p"),
            updated_at=bindparam("now")).returning(ACCOUNTS.c.balance, *policy),
        "entry": store.insert_ignoring(ENTRIES, keys=["workspace_id", "idempotency_key"]).returning(ENTRIES.c.id),
        "lot": insert(LOTS),
    }


def earn(session: Session, *, actor: Actor, customer_id: int, points: int, key: str, reason: str = "",
         source_type: str | None = None, source_ref: str | None = None, rule_id: int | None = None,
         occurred_at: datetime | None = None, kind: str = EntryKind.EARN) -> tuple[PointsEntry, bool]:
    """Add a lot of points; returns (entry, created). The same key again returns the first entry unchanged."""
    actor.require(Permission.WRITE)
    if points <= 0:
        raise Invalid("points to earn must be positive", field="points")
    if actor.sees_own_customers_only:
        customer_id = resolve_customer(session, actor=actor, customer_id=customer_id)
    now = utcnow()
    occurred = occurred_at or now
    connection = session.connection()
    store = dialect.of(connection)
    statements = _award_statements(store)
    move = {"w": actor.workspace_id, "c": customer_id, "p": points, "now": now}
    moved = connection.execute(statements["move"], move).first()
    if moved is None:
        customer_id = open_account(session, actor, customer_id)
        moved = connection.execute(statements["move"], move | {"c": customer_id}).first()
    balance = moved[0]
    policy = moved[1:] if moved[1] is not None else DEFAULT_POLICY
    expires_at = ledger.expiry_for(occurred, policy=policy[0], months=policy[1], fixed_month_day=policy[2],
                                   zone=actor.timezone)
    values = {"workspace_id": actor.workspace_id, "customer_id": customer_id, "kind": str(kind), "points": points,
              "balance_after": balance, "shortfall": 0, "idempotency_key": key, "reason": reason,
              "source_type": source_type, "source_ref": source_ref, "rule_id": rule_id, "reverses_id": None,
              "occurred_at": occurred, "member_id": actor.member_id, "detail": {}, "created_at": now}
    # After a negative balance, new points first pay it back: only what is above zero forms the lot.
    remaining = min(points, max(balance, 0))
    payload = {name: values[name] for name in PAYLOAD} | {"occurred_at": occurred.isoformat()}
    if store.writes_through_ctes:
        entry_id = connection.execute(PG_WRITE, {k: v for k, v in values.items() if k not in ("detail", "shortfall",
                                                                                             "reverses_id")}
                                      | {"remaining": remaining, "expires_at": expires_at,
                                         "topic": Topic.POINTS_CHANGED.value,
                                         "payload": json.dumps(payload, ensure_ascii=False)}).scalar()
        if entry_id is not None:
            session.info[outbox.WROTE_OUTBOX] = True
    else:
        entry_id = connection.execute(statements["entry"], values).scalar()
        if entry_id is not None:
            connection.execute(statements["lot"], {"workspace_id": actor.workspace_id, "customer_id": customer_id,
                                                   "entry_id": entry_id, "points": points, "remaining": remaining,
                                                   "expires_at": expires_at, "created_at": now})
            outbox.emit_now(session, workspace_id=actor.workspace_id, topic=Topic.POINTS_CHANGED, entity_id=entry_id,
                            payload=payload | {"entry_id": entry_id})
    if entry_id is None:
        # The key was applied before (we waited for its transaction on the account lock): undo our move.
        connection.execute(statements["move"], move | {"c": customer_id, "p": -points})
        return find_entry(session, workspace_id=actor.workspace_id, key=key), False
    return _entry_object(entry_id, values), True


def lock_account(session: Session, *, actor: Actor, customer_id: int):
    """Open (if needed) and lock a customer's account row for this transaction."""
    _insert_once(session, ACCOUNTS, {"workspace_id": actor.workspace_id, "customer_id": customer_id, "balance": 0,
                                     "earned_total": 0, "shortfall": 0, "created_at": utcnow()},
                 keys=["workspace_id", "customer_id"])
    return _lock(session, workspace_id=actor.workspace_id, customer_id=customer_id)


def reversed_total(session: Session, *, entry_id: int) -> int:
    """Points reversals of an earn entry asked for so far (taken back or recorded as shortfall)."""
    return -int(session.scalar(select(func.coalesce(func.sum(PointsEntry.points - PointsEntry.shortfall), 0))
                               .where(PointsEntry.reverses_id == entry_id)) or 0)


def _lock(session: Session, *, workspace_id: int, customer_id: int):
    return session.execute(select(ACCOUNTS).where(ACCOUNTS.c.workspace_id == workspace_id,
                                                  ACCOUNTS.c.customer_id == customer_id).with_for_update()).first()


def _lots(session: Session, *, customer_id: int) -> list[ledger.Lot]:
    rows = session.execute(select(LOTS.c.id, LOTS.c.remaining, LOTS.c.expires_at, LOTS.c.entry_id)
                           .where(LOTS.c.customer_id == customer_id, LOTS.c.remaining > 0))
    return [ledger.Lot(id=r.id, remaining=r.remaining, expires_at=r.expires_at, entry_id=r.entry_id) for r in rows]


def _take(session: Session, plan: list[tuple[int, int]]) -> None:
    for lot_id, points in plan:
        session.execute(update(LOTS).where(LOTS.c.id == lot_id).values(remaining=LOTS.c.remaining - points))


def _write(session: Session, *, workspace_id: int, member_id: int | None, customer_id: int, kind: str, points: int,
           balance_after: int, key: str, reason: str = "", shortfall: int = 0, source_type: str | None = None,
           source_ref: str | None = None, reverses_id: int | None = None, detail: dict | None = None,
           occurred_at: datetime | None = None) -> PointsEntry:
    now = utcnow()
    entry = PointsEntry(workspace_id=workspace_id, customer_id=customer_id, kind=str(kind), points=points,
                        balance_after=balance_after, shortfall=shortfall, idempotency_key=key, reason=reason,
                        source_type=source_type, source_ref=source_ref, reverses_id=reverses_id,
                        occurred_at=occurred_at or now, member_id=member_id, detail=detail or {}, created_at=now)
    session.add(entry)
    session.flush()
    _emit(session, entry)
    return entry


def _set_balance(session: Session, *, account_id: int, balance: int, shortfall_delta: int = 0,
                 earned_delta: int = 0) -> None:
    session.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
                    .values(balance=balance, shortfall=ACCOUNTS.c.shortfall + shortfall_delta,
                            earned_total=ACCOUNTS.c.earned_total + earned_delta, updated_at=utcnow()))


def _expire_locked(session: Session, *, workspace_id: int, account, lots: list[ledger.Lot], now: datetime
                   ) -> tuple[int, list[PointsEntry]]:
    """Write an expire entry per lot past its date (the account is locked); returns (balance, entries)."""
    balance, made = account.balance, []
    by_id = {lot.id: lot for lot in lots}
    for lot_id, points in ledger.expiring(lots, now=now):
        balance -= points
        by_id[lot_id].remaining = 0
        session.execute(update(LOTS).where(LOTS.c.id == lot_id).values(remaining=0))
        made.append(_write(session, workspace_id=workspace_id, member_id=None, customer_id=account.customer_id,
                           kind=EntryKind.EXPIRE, points=-points, balance_after=balance,
                           key=ledger.system_key("expire", lot_id),
                           reason="points expired", source_type="lot", source_ref=str(lot_id),
                           occurred_at=by_id[lot_id].expires_at))
    if made:
        _set_balance(session, account_id=account.id, balance=balance)
    return balance, made


def redeem(session: Session, *, actor: Actor, customer_id: int, points: int, key: str, reason: str = "",
           source_type: str | None = "redemption", source_ref: str | None = None,
           kind: str = EntryKind.REDEEM) -> tuple[PointsEntry, bool]:
    """Spend points first-expiring-first; NotEnoughPoints (409) if the unexpired lots hold too few."""
    actor.require(Permission.WRITE)
    if points <= 0:
        raise Invalid("points to redeem must be positive", field="points")
    customer_id = resolve_customer(session, actor=actor, customer_id=customer_id)
    account = _lock(session, workspace_id=actor.workspace_id, customer_id=customer_id)
    existing = find_entry(session, workspace_id=actor.workspace_id, key=key)
    if existing is not None:
        return existing, False
    if account is None:
        raise NotEnoughPoints(f"only 0 points available, {points} wanted", field="points")
    now = utcnow()
    lots = _lots(session, customer_id=customer_id)
    balance, _ = _expire_locked(session, workspace_id=actor.workspace_id, account=account, lots=lots, now=now)
    if balance < points:
        raise NotEnoughPoints(f"only {max(balance, 0)} points available, {points} wanted", field="points")
    plan = ledger.allocate(lots, points, now=now)
    _take(session, plan)
    entry = _write(session, workspace_id=actor.workspace_id, member_id=actor.member_id, customer_id=customer_id,
                   kind=kind, points=-points, balance_after=balance - points, key=key, reason=reason,
                   source_type=source_type, source_ref=source_ref, detail={"lots": plan})
    _set_balance(session, account_id=account.id, balance=balance - points)
    return entry, True


def reverse(session: Session, *, actor: Actor, entry_id: int, key: str, points: int | None = None,
            reason: str = "", source_type: str | None = None, source_ref: str | None = None
            ) -> tuple[PointsEntry | None, bool]:
    """Take back (part of) an earn even if spent: from its own lot first, then FEFO; beyond the balance the
    account goes negative if the workspace allows it, else the shortfall is recorded. None if nothing is left."""
    actor.require(Permission.WRITE)
    origin = session.get(PointsEntry, entry_id)
    if origin is None or origin.workspace_id != actor.workspace_id or origin.points <= 0:
        raise NotFound("no such earn entry", field="entry_id")
    if actor.sees_own_customers_only:
        try:
            visible_customer(session, actor=actor, customer_id=origin.customer_id)
        except NotFound as exc:
            raise NotFound("no such earn entry", field="entry_id") from exc
    account = _lock(session, workspace_id=actor.workspace_id, customer_id=origin.customer_id)
    existing = find_entry(session, workspace_id=actor.workspace_id, key=key)
    if existing is not None:
        return existing, False
    left = origin.points - reversed_total(session, entry_id=origin.id)
    points = left if points is None else min(points, left)
    if points <= 0:
        return None, False
    now = utcnow()
    lots = _lots(session, customer_id=origin.customer_id)
    balance, _ = _expire_locked(session, workspace_id=actor.workspace_id, account=account, lots=lots, now=now)
    origin_lot = session.scalar(select(LOTS.c.id).where(LOTS.c.entry_id == origin.id))
    plan, short = ledger.reversal(lots, points, now=now, origin_lot_id=origin_lot)
    _take(session, plan)
    allow_negative = config.settings_of(session, workspace_id=actor.workspace_id).allow_negative
    shortfall = 0 if allow_negative else short
    taken = points - shortfall
    entry = _write(session, workspace_id=actor.workspace_id, member_id=actor.member_id,
                   customer_id=origin.customer_id, kind=EntryKind.REVERSE, points=-taken,
                   balance_after=balance - taken, key=key, reason=reason, shortfall=shortfall,
                   source_type=source_type or origin.source_type, source_ref=source_ref or origin.source_ref,
                   reverses_id=origin.id, detail={"lots": plan, "requested": points})
    _set_balance(session, account_id=account.id, balance=balance - taken, shortfall_delta=shortfall)
    return entry, True


def adjust(session: Session, *, actor: Actor, customer_id: int, points: int, key: str, reason: str
           ) -> tuple[PointsEntry, bool]:
    """An operator's correction: positive adds a lot, negative spends FEFO; audited."""
    actor.require(Permission.BULK)
    if points > 0:
        entry, created = earn(session, actor=actor, customer_id=customer_id, points=points, key=key, reason=reason,
                              source_type="adjustment", kind=EntryKind.ADJUST)
    else:
        entry, created = redeem(session, actor=actor, customer_id=customer_id, points=-points, key=key,
                                reason=reason, source_type="adjustment", kind=EntryKind.ADJUST)
    if created:
        workspaces_service.record(session, actor=actor, action="points.adjusted", entity_type="customer",
                                  entity_id=entry.customer_id, changes={"points": points, "reason": reason,
                                                                        "entry_id": entry.id})
    return entry, created


def due_accounts(session: Session, *, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(workspace, customer) pairs with lots past their expiry and points left, in id order."""
    rows = session.execute(select(LOTS.c.workspace_id, LOTS.c.customer_id)
                           .where(LOTS.c.expires_at <= now, LOTS.c.remaining > 0)
                           .group_by(LOTS.c.workspace_id, LOTS.c.customer_id)
                           .order_by(LOTS.c.customer_id).limit(limit))
    return [(r.workspace_id, r.customer_id) for r in rows]


def expire_customer(session: Session, *, workspace_id: int, customer_id: int, now: datetime) -> list[PointsEntry]:
    """Write expire entries for one customer's lots past their date (the nightly job calls this per account)."""
    account = _lock(session, workspace_id=workspace_id, customer_id=customer_id)
    if account is None:
        return []
    _, made = _expire_locked(session, workspace_id=workspace_id, account=account,
                             lots=_lots(session, customer_id=customer_id), now=now)
    return made


def visible_customer(session: Session, *, actor: Actor, customer_id: int) -> int:
    """The customer's id if the actor may see them (NotFound otherwise)."""
    return customers_service.get_customer(session, actor=actor, customer_id=customer_id).id


def account_of(session: Session, *, workspace_id: int, customer_id: int):
    """The account row (balance, earned_total, shortfall) or None."""
    return session.execute(select(ACCOUNTS).where(ACCOUNTS.c.workspace_id == workspace_id,
                                                  ACCOUNTS.c.customer_id == customer_id)).first()


def balance(session: Session, *, actor: Actor, customer_id: int) -> BalanceOut:
    """A customer's balance, live lots and next expiry."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    account = account_of(session, workspace_id=actor.workspace_id, customer_id=customer.id)
    lots = list(session.scalars(select(PointsLot).where(PointsLot.customer_id == customer.id,
                                                        PointsLot.remaining > 0)))
    lots.sort(key=lambda lot: (lot.expires_at is None, lot.expires_at or _NEVER, lot.id))
    dated = [lot for lot in lots if lot.expires_at is not None]
    first = dated[0].expires_at if dated else None
    return BalanceOut(customer_id=customer.id, balance=account.balance if account else 0,
                      earned_total=account.earned_total if account else 0,
                      shortfall=account.shortfall if account else 0,
                      lots=[LotOut.model_validate(lot) for lot in lots], next_expiry=first,
                      next_expiry_points=sum(lot.remaining for lot in dated if lot.expires_at == first))


def history(session: Session, *, actor: Actor, customer_id: int, before_id: int | None = None,
            limit: int = 50) -> list[PointsEntry]:
    """A customer's entries, newest first."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    query = select(PointsEntry).where(PointsEntry.workspace_id == actor.workspace_id,
                                      PointsEntry.customer_id == customer.id)
    if before_id is not None:
        query = query.where(PointsEntry.id < before_id)
    return list(session.scalars(query.order_by(PointsEntry.id.desc()).limit(limit)))


def get_entry(session: Session, *, actor: Actor, entry_id: int) -> PointsEntry:
    """One entry of the workspace."""
    actor.require(Permission.READ)
    entry = session.get(PointsEntry, entry_id)
    if entry is None or entry.workspace_id != actor.workspace_id:
        raise NotFound("no such entry", field="entry_id")
    customers_service.get_customer(session, actor=actor, customer_id=entry.customer_id)
    return entry


def liability(session: Session, *, actor: Actor) -> LiabilityOut:
    """Outstanding points by the month (workspace time) they expire in, valued at the configured rate."""
    actor.require(Permission.READ)
    rate = config.settings_of(session, workspace_id=actor.workspace_id).fen_per_100_points
    zone = ZoneInfo(actor.timezone)
    months: dict[str | None, int] = defaultdict(int)
    rows = session.execute(select(LOTS.c.expires_at, func.sum(LOTS.c.remaining))
                           .where(LOTS.c.workspace_id == actor.workspace_id, LOTS.c.remaining > 0)
                           .group_by(LOTS.c.expires_at))
    for expires_at, points in rows:
        # A lot expiring at local midnight belongs to the month of its last valid day.
        key = None if expires_at is None else (
            (_aware(expires_at).astimezone(zone) - _TICK).strftime("%Y-%m"))
        months[key] += int(points)
    ordered = sorted(months.items(), key=lambda item: (item[0] is None, item[0] or ""))
    out = [LiabilityRow(month=month, points=points, value_fen=points * rate // 100) for month, points in ordered]
    total = sum(row.points for row in out)
    return LiabilityOut(rows=out, total_points=total, total_value_fen=total * rate // 100, fen_per_100_points=rate)


_NEVER = datetime.max.replace(tzinfo=UTC)
_TICK = timedelta(microseconds=1)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge a customer's account, entries and lots into the winner's (auditable: a merge entry records it)."""
    loser = session.execute(select(ACCOUNTS).where(ACCOUNTS.c.customer_id == from_id)).first()
    if loser is None:
        return 0
    workspace_id = loser.workspace_id
    for customer_id in sorted({from_id, to_id}):  # lock in primary-key order, as every merge does
        if customer_id == to_id:
            _insert_once(session, ACCOUNTS, {"workspace_id": workspace_id, "customer_id": to_id, "balance": 0,
                                             "earned_total": 0, "shortfall": 0, "created_at": utcnow()},
                         keys=["workspace_id", "customer_id"])
        _lock(session, workspace_id=workspace_id, customer_id=customer_id)
    winner = _lock(session, workspace_id=workspace_id, customer_id=to_id)
    loser = _lock(session, workspace_id=workspace_id, customer_id=from_id)
    moved = session.execute(update(ENTRIES).where(ENTRIES.c.customer_id == from_id)
                            .values(customer_id=to_id)).rowcount or 0
    session.execute(update(LOTS).where(LOTS.c.customer_id == from_id).values(customer_id=to_id))
    session.execute(delete(ACCOUNTS).where(ACCOUNTS.c.id == loser.id))
    balance = winner.balance + loser.balance
    # The balance is the sum of the entries; lots may hold more when one side was negative: trim them FEFO.
    lots = _lots(session, customer_id=to_id)
    excess = sum(lot.remaining for lot in lots) - max(balance, 0)
    if excess > 0:
        _take(session, ledger.allocate(lots, excess, now=datetime.min.replace(tzinfo=UTC)))
    session.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == winner.id)
                    .values(balance=balance, earned_total=winner.earned_total + loser.earned_total,
                            shortfall=winner.shortfall + loser.shortfall, updated_at=utcnow()))
    _write(session, workspace_id=workspace_id, member_id=None, customer_id=to_id, kind=EntryKind.MERGE, points=0,
           balance_after=balance, key=ledger.system_key("merge", from_id, to_id), reason=f"merged customer {from_id}",
           source_type="customer", source_ref=str(from_id),
           detail={"from_customer_id": from_id, "moved_entries": moved, "moved_balance": loser.balance,
                   "trimmed_lot_points": max(excess, 0)})
    return moved


def export(session: Session, *, customer_id: int) -> dict:
    """A customer's points account and ledger for a data-subject export."""
    account = session.execute(select(ACCOUNTS).where(ACCOUNTS.c.customer_id == customer_id)).first()
    entries = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                              .order_by(PointsEntry.id))
    return {"balance": account.balance if account else 0,
            "entries": [{"id": e.id, "kind": e.kind, "points": e.points, "balance_after": e.balance_after,
                         "reason": e.reason, "source_type": e.source_type, "source_ref": e.source_ref,
                         "at": e.occurred_at.isoformat()} for e in entries]}


def erase(session: Session, *, customer_id: int) -> None:
    """Blank free-text reasons on a customer's entries (operators may have written personal data there)."""
    session.execute(update(ENTRIES).where(and_(ENTRIES.c.customer_id == customer_id, ENTRIES.c.reason != ""))
                    .values(reason="(erased)"))
