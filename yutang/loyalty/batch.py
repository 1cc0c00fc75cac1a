"""Group-committed points awards: many earns applied in one transaction with a few statements (`earn_many`)."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Row, bindparam, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.loyalty import ledger, points
from yutang.loyalty.models import PointsAccount, PointsEntry, PointsLot, Tier
from yutang.loyalty.schemas import EntryKind
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.storage.types import UTCDateTime
from yutang.workspaces.access import Actor, Permission

ACCOUNTS, ENTRIES, LOTS = PointsAccount.__table__, PointsEntry.__table__, PointsLot.__table__

@dataclass
class AwardRequest:
    """One award for `earn_many`: what `earn` takes, for one actor."""

    actor: Actor
    customer_id: int
    points: int
    key: str
    reason: str = ""
    source_type: str | None = None
    source_ref: str | None = None
    rule_id: int | None = None
    occurred_at: datetime | None = None
    kind: str = EntryKind.EARN


@dataclass(slots=True)
class AwardedEntry:
    """The entry an award of `earn_many` wrote: PointsEntry's columns, without the ORM's bookkeeping."""

    id: int
    workspace_id: int
    customer_id: int
    kind: str
    points: int
    balance_after: int
    shortfall: int
    idempotency_key: str
    reason: str
    source_type: str | None
    source_ref: str | None
    rule_id: int | None
    reverses_id: int | None
    occurred_at: datetime
    member_id: int | None
    detail: dict
    created_at: datetime


class BatchConflict(Exception):
    """A key of the batch was already applied (or written by a concurrent transaction after we looked): roll
    back and apply the batch again with `check_keys`."""


@dataclass
class EarnBatch:
    """What `earn_many` did: per award (entry, created) or its exception, and the workspaces that have tiers."""

    results: list
    tiered: set[int]


def earn_many(session: Session, awards: list[AwardRequest], *, check_keys: bool = True) -> EarnBatch:
    """Apply many awards in the caller's transaction with a few statements, whatever their number.

    Per award as `earn`: its own entry, lot, outbox row and idempotency key (a key already applied, or repeated
    in the batch, returns the first entry). An award that cannot apply (bad points, unknown or erased customer,
    no permission) gets its exception in its place and writes nothing; the others go ahead. Accounts are locked
    in id order, so concurrent batches cannot deadlock each other. Without `check_keys` (the group committer's
    first try) keys are not looked up first: a key found already applied at insert raises BatchConflict."""
    results: list = [None] * len(awards)
    target: dict[int, int] = {}  # award index -> the customer whose account it moves
    for index, award in enumerate(awards):
        try:
            award.actor.require(Permission.WRITE)
            if award.points <= 0:
                raise Invalid("points to earn must be positive", field="points")
            target[index] = award.customer_id
            if award.actor.sees_own_customers_only:
                target[index] = points.resolve_customer(session, actor=award.actor, customer_id=award.customer_id)
        except Exception as error:  # noqa: BLE001 - handed to that award's caller
            results[index] = error
            target.pop(index, None)
    facts: dict[int, tuple] = {}  # workspace -> (expiry policy, months, month-day, has tiers)
    accounts = _lock_accounts(session, {(awards[i].actor.workspace_id, c) for i, c in target.items()}, facts)
    opened = set()
    for index in sorted(i for i, c in target.items() if (awards[i].actor.workspace_id, c) not in accounts):
        award = awards[index]  # a customer's first award (or a merged id): resolve and open the account
        try:
            target[index] = points.open_account(session, award.actor, target[index])
            opened.add((award.actor.workspace_id, target[index]))
        except Exception as error:  # noqa: BLE001
            results[index] = error
            del target[index]
    accounts |= _lock_accounts(session, opened - accounts.keys(), facts)
    known = _entries_by_key(session, {(awards[i].actor.workspace_id, awards[i].key) for i in target}) \
        if check_keys else {}
    first: dict[tuple[int, str], int] = {}
    fresh = []
    now = utcnow()
    balances = {account: row.balance for account, row in accounts.items()}
    earned: dict[tuple[int, int], int] = defaultdict(int)
    for index in sorted(target):
        award, customer_id = awards[index], target[index]
        workspace_id = award.actor.workspace_id
        if (workspace_id, award.key) in known:
            results[index] = (known[(workspace_id, award.key)], False)
            continue
        if (workspace_id, award.key) in first:
            continue  # resolved below to the first award's entry
        first[(workspace_id, award.key)] = index
        account = (workspace_id, customer_id)
        balances[account] += award.points
        earned[account] += award.points
        occurred = award.occurred_at or now
        policy = facts[workspace_id][:3] if facts[workspace_id][0] is not None else points.DEFAULT_POLICY
        values = {"workspace_id": workspace_id, "customer_id": customer_id, "kind": str(award.kind),
                  "points": award.points, "balance_after": balances[account], "shortfall": 0,
                  "idempotency_key": award.key, "reason": award.reason, "source_type": award.source_type,
                  "source_ref": award.source_ref, "rule_id": award.rule_id, "reverses_id": None,
                  "occurred_at": occurred, "member_id": award.actor.member_id, "detail": {}, "created_at": now}
        lot = {"workspace_id": workspace_id, "customer_id": customer_id, "points": award.points,
               # After a negative balance, new points first pay it back: only what is above zero forms the lot.
               "remaining": min(award.points, max(balances[account], 0)), "created_at": now,
               "expires_at": ledger.expiry_for(occurred, policy=policy[0], months=policy[1],
                                               fixed_month_day=policy[2], zone=award.actor.timezone)}
        payload = {name: values[name] for name in points.PAYLOAD} | {"occurred_at": occurred.isoformat()}
        fresh.append((index, values, lot, payload))
    if fresh:
        moves = [{"account_id": accounts[account].id, "b": balances[account], "p": earned[account], "now": now}
                 for account in sorted(earned, key=lambda a: accounts[a].id)]
        write = _write_in_one if dialect.of(session).writes_through_ctes else _write_in_steps
        written = write(session, fresh, moves, now)
        if len(written) != len(fresh):
            raise BatchConflict("a key of the batch was applied before")
        session.info[outbox.WROTE_OUTBOX] = True
        for index, values, _, _ in fresh:
            results[index] = (AwardedEntry(id=written[(values["workspace_id"], values["idempotency_key"])],
                                           **values), True)
    for index in target:
        if results[index] is None:  # a repeat of a key earlier in this batch
            award = awards[index]
            entry, _ = results[first[(award.actor.workspace_id, award.key)]]
            results[index] = (entry, False)
    return EarnBatch(results=results, tiered={w for w, fact in facts.items() if fact[3]})


def _lock_accounts(session: Session, pairs: set[tuple[int, int]], facts: dict[int, tuple]
                   ) -> dict[tuple[int, int], Row]:
    """Lock the accounts (in id order) and note each workspace's expiry policy and whether it has tiers."""
    rows = []
    if pairs:
        connection = session.connection()
        lock = _batch_statements(dialect.of(connection))["lock"]
        by_workspace: dict[int, list[int]] = defaultdict(list)
        for workspace_id, customer_id in sorted(pairs):
            by_workspace[workspace_id].append(customer_id)
        for workspace_id, customer_ids in sorted(by_workspace.items()):
            rows.extend(connection.execute(lock, {"w": workspace_id, "cs": customer_ids}))
    for row in rows:
        facts[row.workspace_id] = (row.expiry_policy, row.expiry_months, row.expiry_month_day, row.has_tiers)
    unseen = {workspace_id for workspace_id, _ in pairs} - facts.keys()
    if unseen:  # only accounts opened in this batch: ask about their workspaces directly
        for workspace_id in unseen:
            settings = session.execute(select(points.SETTINGS.c.expiry_policy, points.SETTINGS.c.expiry_months,
                                              points.SETTINGS.c.expiry_month_day)
                                       .where(points.SETTINGS.c.workspace_id == workspace_id)).first()
            tiered = session.scalar(select(select(Tier.id).where(Tier.workspace_id == workspace_id).exists()))
            facts[workspace_id] = (*(settings or (None, None, None)), bool(tiered))
    return {(row.workspace_id, row.customer_id): row for row in rows}


def _entries_by_key(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], PointsEntry]:
    if not pairs:
        return {}
    found = session.scalars(select(PointsEntry).where(
        tuple_(PointsEntry.workspace_id, PointsEntry.idempotency_key).in_(sorted(pairs))))
    return {(entry.workspace_id, entry.idempotency_key): entry for entry in found}


# On PostgreSQL a batch's entries, lots, outbox rows and balances are written by one statement (arrays unnested;
# data-modifying CTEs). Entries, lots and outbox rows get their ids in the batch's order.
PG_BATCH = text("""
WITH v AS (
  SELECT * FROM unnest(CAST(:w AS bigint[]), CAST(:c AS bigint[]), CAST(:kind AS text[]), CAST(:p AS bigint[]),
    CAST(:bal AS bigint[]), CAST(:k AS text[]), CAST(:reason AS text[]), CAST(:st AS text[]), CAST(:sr AS text[]),
    CAST(:rule AS bigint[]), CAST(:occ AS timestamptz[]), CAST(:member AS bigint[]), CAST(:rem AS bigint[]),
    CAST(:exp AS timestamptz[]), CAST(:payload AS text[])) WITH ORDINALITY
    AS v(w, c, kind, p, bal, k, reason, st, sr, rule, occ, member, rem, exp, payload, ord)),
e AS (
  INSERT INTO points_entries (workspace_id, customer_id, kind, points, balance_after, shortfall, idempotency_key,
    reason, source_type, source_ref, rule_id, occurred_at, member_id, detail, created_at)
  SELECT w, c, kind, p, bal, 0, k, reason, st, sr, rule, occ, member, '{}'::jsonb, :now FROM v ORDER BY ord
  ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
  RETURNING id, workspace_id, idempotency_key),
l AS (
  INSERT INTO points_lots (workspace_id, customer_id, entry_id, points, remaining, expires_at, created_at)
  SELECT v.w, v.c, e.id, v.p, v.rem, v.exp, :now FROM e JOIN v ON v.w = e.workspace_id AND v.k = e.idempotency_key
  ORDER BY e.id),
o AS (
  INSERT INTO outbox (workspace_id, topic, entity_id, payload, created_at)
  SELECT v.w, :topic, e.id, CAST(v.payload AS jsonb) || jsonb_build_object('entry_id', e.id), :now
  FROM e JOIN v ON v.w = e.workspace_id AND v.k = e.idempotency_key ORDER BY e.id),
a AS (
  UPDATE points_accounts SET balance = u.b, earned_total = points_accounts.earned_total + u.p, updated_at = :now
  FROM unnest(CAST(:aid AS bigint[]), CAST(:ab AS bigint[]), CAST(:ap AS bigint[])) AS u(id, b, p)
  WHERE points_accounts.id = u.id)
SELECT id, workspace_id, idempotency_key FROM e""").bindparams(bindparam("now", type_=UTCDateTime))


def _write_in_one(session: Session, fresh: list, moves: list[dict], now: datetime) -> dict[tuple[int, str], int]:
    values = [v for _, v, _, _ in fresh]
    rows = session.connection().execute(PG_BATCH, {
        "w": [v["workspace_id"] for v in values], "c": [v["customer_id"] for v in values],
        "kind": [v["kind"] for v in values], "p": [v["points"] for v in values],
        "bal": [v["balance_after"] for v in values], "k": [v["idempotency_key"] for v in values],
        "reason": [v["reason"] for v in values], "st": [v["source_type"] for v in values],
        "sr": [v["source_ref"] for v in values], "rule": [v["rule_id"] for v in values],
        "occ": [v["occurred_at"] for v in values], "member": [v["member_id"] for v in values],
        "rem": [lot["remaining"] for _, _, lot, _ in fresh], "exp": [lot["expires_at"] for _, _, lot, _ in fresh],
        "payload": [json.dumps(payload, ensure_ascii=False) for _, _, _, payload in fresh],
        "aid": [m["account_id"] for m in moves], "ab": [m["b"] for m in moves], "ap": [m["p"] for m in moves],
        "topic": Topic.POINTS_CHANGED.value, "now": now})
    return {(row.workspace_id, row.idempotency_key): row.id for row in rows}


def _write_in_steps(session: Session, fresh: list, moves: list[dict], now: datetime) -> dict[tuple[int, str], int]:
    connection = session.connection()
    statements = _batch_statements(dialect.of(connection))
    # One multi-row INSERT … RETURNING for the entries; ids follow the batch's order.
    rows = connection.execute(statements["entries"], [values for _, values, _, _ in fresh])
    written = {(row.workspace_id, row.idempotency_key): row.id for row in rows}
    if len(written) != len(fresh):
        return written  # an applied key: the caller rolls back
    for _, values, lot, _ in fresh:
        lot["entry_id"] = written[(values["workspace_id"], values["idempotency_key"])]
    connection.execute(statements["lots"], [lot for _, _, lot, _ in fresh])
    connection.execute(statements["outbox"], [
        {"workspace_id": values["workspace_id"], "topic": Topic.POINTS_CHANGED.value, "entity_id": lot["entry_id"],
         "payload": payload | {"entry_id": lot["entry_id"]}, "relayed_at": None, "created_at": now}
        for _, values, lot, payload in fresh])
    connection.execute(statements["accounts"], moves)
    return written


@lru_cache(maxsize=4)
def _batch_statements(store: dialect.Dialect) -> dict:
    """The batch path's statements, built once per dialect (the writes here are for stores without
    data-modifying CTEs; see PG_BATCH)."""
    has_tiers = select(Tier.id).where(Tier.workspace_id == ACCOUNTS.c.workspace_id).exists()
    customers = store.any_of(ACCOUNTS.c.customer_id, "cs")
    return {
        # Locks a workspace's accounts in id order and reads its expiry policy and whether it has tiers.
        "lock": select(ACCOUNTS.c.id, ACCOUNTS.c.workspace_id, ACCOUNTS.c.customer_id, ACCOUNTS.c.balance,
                       points.SETTINGS.c.expiry_policy, points.SETTINGS.c.expiry_months,
                       points.SETTINGS.c.expiry_month_day,
                       has_tiers.label("has_tiers"))
        .outerjoin(points.SETTINGS, points.SETTINGS.c.workspace_id == ACCOUNTS.c.workspace_id)
        .where(ACCOUNTS.c.workspace_id == bindparam("w"), customers)
        .order_by(ACCOUNTS.c.id).with_for_update(of=ACCOUNTS),
        "entries": store.insert_ignoring(ENTRIES, keys=["workspace_id", "idempotency_key"])
        .returning(ENTRIES.c.id, ENTRIES.c.workspace_id, ENTRIES.c.idempotency_key),
        "lots": insert(LOTS),
        "outbox": insert(outbox.OutboxRow.__table__),
        "accounts": update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("account_id")).values(
            balance=bindparam("b"), earned_total=ACCOUNTS.c.earned_total + bindparam("p"),
            updated_at=bindparam("now")),
    }
