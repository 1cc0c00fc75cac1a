"""The commission ledger's public face: post entries for an order's lines, reverse for refunds, end freezes, pay out.

Not referral-specific: distributors, guides (exclusive-guide sales) and group-buy leaders post to the same ledger,
each as an account (kind, beneficiary id). Every change locks the accounts it touches (in id order) first, so
balances always equal the sum of their entries; every entry, reversal and payout has an idempotency key.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.commissions import core
from yutang.commissions.core import State
from yutang.commissions.models import (
    CommissionAccount,
    CommissionBatch,
    CommissionEntry,
    CommissionPayout,
    CommissionReversal,
)
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.orders import paid
from yutang.storage import dialect, outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

KINDS = frozenset({"distributor", "staff", "leader"})
BUCKET = {State.PENDING: "pending_fen", State.FROZEN: "frozen_fen", State.AVAILABLE: "available_fen",
          State.PAID: "paid_fen"}

__all__ = ["CommissionAccount", "CommissionBatch", "CommissionEntry", "CommissionPayout", "Beneficiary", "account",
           "post", "post_order", "reverse_for_refund", "freeze_order", "release_due", "pay_out", "create_batch",
           "open_fen"]


@dataclass(frozen=True)
class Beneficiary:
    """Who earns at a level: an account kind and the id of the distributor, staff member or leader."""

    kind: str
    id: int


def open_fen(entry: CommissionEntry) -> int:
    """What is left of an entry after its reversals."""
    return entry.amount_fen - entry.reversed_fen


def account(session: Session, *, actor: Actor, kind: str, beneficiary_id: int) -> CommissionAccount:
    """The beneficiary's account, opened if needed."""
    if kind not in KINDS:
        raise Invalid(f"unknown account kind {kind!r}", field="kind")
    table = CommissionAccount.__table__
    session.execute(dialect.of(session).insert_ignoring(table, keys=["workspace_id", "kind", "beneficiary_id"])
                    .values(workspace_id=actor.workspace_id, kind=kind, beneficiary_id=beneficiary_id,
                            pending_fen=0, frozen_fen=0, available_fen=0, paid_fen=0, reversed_fen=0,
                            created_at=utcnow()))
    return session.scalar(select(CommissionAccount).where(
        CommissionAccount.workspace_id == actor.workspace_id, CommissionAccount.kind == kind,
        CommissionAccount.beneficiary_id == beneficiary_id))


def _lock(session: Session, account_ids: set[int]) -> dict[int, CommissionAccount]:
    """Lock accounts in id order (no deadlock between two changes) and load them fresh."""
    query = (select(CommissionAccount).where(CommissionAccount.id.in_(sorted(account_ids)))
             .order_by(CommissionAccount.id).execution_options(populate_existing=True))
    return {a.id: a for a in session.scalars(dialect.of(session).lock(query))}


def _move(acct: CommissionAccount, *, fen: int, source: State | None, target: State | None) -> None:
    if source in BUCKET:
        setattr(acct, BUCKET[source], getattr(acct, BUCKET[source]) - fen)
    if target in BUCKET:
        setattr(acct, BUCKET[target], getattr(acct, BUCKET[target]) + fen)
    acct.updated_at = utcnow()


def post(session: Session, *, actor: Actor, source: str, order_id: int, share: core.Share, kind: str,
         line_amount_fen: int, release_at: datetime, occurred_at: datetime,
         customer_id: int | None = None) -> tuple[CommissionEntry, bool]:
    """Post one entry (pending) for an order line and level; the same (source, order, line, level) posts once."""
    actor.require(Permission.WRITE)
    acct = account(session, actor=actor, kind=kind, beneficiary_id=share.beneficiary)
    key = f"{source}:order:{order_id}:line:{share.line_no}:level:{share.level}"
    acct = _lock(session, {acct.id})[acct.id]
    found = session.scalar(select(CommissionEntry).where(CommissionEntry.workspace_id == actor.workspace_id,
                                                         CommissionEntry.idempotency_key == key))
    if found is not None:
        return found, False
    entry = CommissionEntry(workspace_id=actor.workspace_id, account_id=acct.id, idempotency_key=key, source=source,
                            order_id=order_id, line_no=share.line_no, level=share.level,
                            line_amount_fen=line_amount_fen, base_fen=share.base_fen, rate_bp=share.rate_bp,
                            amount_fen=share.amount_fen, state=State.PENDING.value, release_at=release_at,
                            occurred_at=occurred_at)
    session.add(entry)
    _move(acct, fen=share.amount_fen, source=None, target=State.PENDING)
    session.flush()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.COMMISSION_POSTED, entity_id=None,
                payload=_payload(entry, acct, fen=entry.amount_fen, customer_id=customer_id))
    return entry, True


def _payload(entry: CommissionEntry, acct: CommissionAccount, *, fen: int, customer_id: int | None) -> dict:
    # No entity id on the row: the event's customer is the buyer named here (or none), never the entry.
    return {"entry_id": entry.id, "customer_id": customer_id, "account_kind": acct.kind,
            "beneficiary_id": acct.beneficiary_id,
            "source": entry.source, "order_id": entry.order_id, "line_no": entry.line_no, "level": entry.level,
            "amount_fen": fen, "state": entry.state, "occurred_at": utcnow().isoformat()}


def post_order(session: Session, *, actor: Actor, source: str, order_id: int, status: str, paid_fen: int,
               refunded_fen: int, lines: list[core.Line], chain: list[Beneficiary], rates: list[core.Rates],
               depth: int, cap_bp: int, paid_at: datetime, after_sales_days: int,
               customer_id: int | None = None) -> list[CommissionEntry]:
    """Post an order's shares for a chain of beneficiaries (level 1 first); refused for an order not paid."""
    if not paid.is_paid(status):
        raise Invalid(f"a commission is paid on a paid order only; this one is {status}", field="order_id")
    if paid_fen <= refunded_fen:
        return []  # refunded in full before its commissions were posted: nothing kept to pay on
    spread = core.attribute_refunds(lines, order_refunded_fen=refunded_fen)
    shares = core.compute(spread, chain=[b.id for b in chain], rates=rates, depth=depth, paid_fen=paid_fen,
                          cap_bp=cap_bp)
    gross = {line.line_no: line.amount_fen for line in lines}
    # Lock every account of the chain first, in id order, so two changes never wait on each other in a circle.
    _lock(session, {account(session, actor=actor, kind=b.kind, beneficiary_id=b.id).id for b in chain[:depth]})
    made = []
    for share in shares:
        entry, created = post(session, actor=actor, source=source, order_id=order_id, share=share,
                              kind=chain[share.level - 1].kind, line_amount_fen=gross[share.line_no],
                              release_at=paid_at + timedelta(days=after_sales_days), occurred_at=paid_at,
                              customer_id=customer_id)
        if created:
            made.append(entry)
    return made


def reverse_for_refund(session: Session, *, actor: Actor, order_id: int, refunded_fen: int,
                       lines: list[core.Line], customer_id: int | None = None) -> list[CommissionReversal]:
    """Reverse, on the lines a refund touches, exactly the part of each open entry their refunds carry; re-running
    with the same refund reverses nothing more. Paid entries are not reopened (clawback is a separate matter)."""
    actor.require(Permission.WRITE)
    spread = {line.line_no: line for line in core.attribute_refunds(lines, order_refunded_fen=refunded_fen)}
    entries = list(session.scalars(select(CommissionEntry).where(
        CommissionEntry.workspace_id == actor.workspace_id, CommissionEntry.order_id == order_id)
        .order_by(CommissionEntry.id)))
    if not entries:
        return []
    accounts = _lock(session, {e.account_id for e in entries})
    made = []
    for entry in entries:
        session.refresh(entry)
        line = spread.get(entry.line_no)
        if line is None or State(entry.state) not in core.OPEN_STATES:
            continue
        since = line.refunded_fen - (entry.line_amount_fen - entry.base_fen)
        due = core.reversal_due(amount_fen=entry.amount_fen, base_fen=entry.base_fen, refunded_since_fen=since,
                                reversed_fen=entry.reversed_fen)
        if due <= 0:
            continue
        acct = accounts[entry.account_id]
        before = State(entry.state)
        entry.reversed_fen += due
        after = core.state_after_reversal(before, amount_fen=entry.amount_fen, reversed_fen=entry.reversed_fen)
        _move(acct, fen=due, source=before, target=None)
        acct.reversed_fen += due
        entry.state = after.value
        entry.updated_at = utcnow()
        reversal = CommissionReversal(workspace_id=actor.workspace_id, entry_id=entry.id, amount_fen=due,
                                      idempotency_key=f"refund:{entry.id}:{entry.reversed_fen}",
                                      reason=f"refund of order {order_id} (line {entry.line_no})")
        session.add(reversal)
        made.append(reversal)
        session.flush()
        outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.COMMISSION_REVERSED, entity_id=None,
                    payload=_payload(entry, acct, fen=due, customer_id=customer_id))
    return made


def freeze_order(session: Session, *, actor: Actor, order_id: int) -> int:
    """Pending entries of a delivered order become frozen until their after-sales window closes."""
    actor.require(Permission.WRITE)
    return _shift(session, actor=actor, source=State.PENDING, target=State.FROZEN,
                  where=[CommissionEntry.order_id == order_id])


def release_due(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """Entries whose after-sales window has closed become available (the freeze ends)."""
    actor.require(Permission.WRITE)
    now = now or utcnow()
    moved = 0
    for state in (State.PENDING, State.FROZEN):
        moved += _shift(session, actor=actor, source=state, target=State.AVAILABLE,
                        where=[CommissionEntry.release_at <= now])
    return moved


def _shift(session: Session, *, actor: Actor, source: State, target: State, where: list) -> int:
    scope = [CommissionEntry.workspace_id == actor.workspace_id, CommissionEntry.state == source.value, *where]
    account_ids = set(session.scalars(select(CommissionEntry.account_id).where(*scope).distinct()))
    if not account_ids:
        return 0
    accounts = _lock(session, account_ids)
    # Only entries of the accounts locked here: an entry changes state only under its account's lock, so what is
    # read now stays true until commit (an entry posted meanwhile to another account waits for the next run).
    rows = session.execute(select(CommissionEntry.id, CommissionEntry.account_id,
                                  CommissionEntry.amount_fen - CommissionEntry.reversed_fen)
                           .where(*scope, CommissionEntry.account_id.in_(sorted(accounts)))).all()
    sums: dict[int, int] = {}
    for _, account_id, fen in rows:
        sums[account_id] = sums.get(account_id, 0) + int(fen)
    ids = [entry_id for entry_id, _, _ in rows]
    for start in range(0, len(ids), 5000):
        session.execute(update(CommissionEntry).where(CommissionEntry.id.in_(ids[start:start + 5000]))
                        .values(state=target.value, updated_at=utcnow()).execution_options(
                            synchronize_session=False))
    for account_id, fen in sums.items():
        _move(accounts[account_id], fen=fen, source=source, target=target)
    session.flush()
    for entry in session.identity_map.values():  # the bulk UPDATE bypassed loaded entries
        if isinstance(entry, CommissionEntry):
            session.expire(entry)
    return len(ids)


def pay_out(session: Session, *, actor: Actor, account_id: int, key: str, limit_fen: int | None = None,
            withholding_bp: int = 0, batch: CommissionBatch | None = None) -> CommissionPayout | None:
    """Pay an account its available entries (whole, oldest first, up to limit_fen); refused above what is
    available; none when nothing is. The key applies once."""
    actor.require(Permission.MANAGE)
    get_in_workspace(session, CommissionAccount, account_id, workspace_id=actor.workspace_id, what="account",
                     field="account_id")
    acct = _lock(session, {account_id})[account_id]
    found = session.scalar(select(CommissionPayout).where(CommissionPayout.workspace_id == actor.workspace_id,
                                                          CommissionPayout.idempotency_key == key))
    if found is not None:
        return found
    if limit_fen is not None and limit_fen > acct.available_fen:
        raise Invalid(f"{limit_fen} fen is more than the {acct.available_fen} fen available", field="amount_fen")
    entries = list(session.scalars(select(CommissionEntry).where(
        CommissionEntry.account_id == account_id, CommissionEntry.state == State.AVAILABLE.value)
        .order_by(CommissionEntry.id).execution_options(populate_existing=True)))
    taken = set(core.payout_pick([(e.id, open_fen(e)) for e in entries], limit_fen=limit_fen))
    gross = sum(open_fen(e) for e in entries if e.id in taken)
    if gross <= 0:
        return None
    tax = core.withholding(gross, rate_bp=withholding_bp)
    payout = CommissionPayout(workspace_id=actor.workspace_id, account_id=account_id, idempotency_key=key,
                              gross_fen=gross, tax_fen=tax, net_fen=gross - tax,
                              batch_id=batch.id if batch is not None else None)
    session.add(payout)
    session.flush()
    for entry in entries:
        if entry.id in taken:
            entry.state = State.PAID.value
            entry.payout_id = payout.id
            entry.updated_at = utcnow()
    _move(acct, fen=gross, source=State.AVAILABLE, target=State.PAID)
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.COMMISSION_PAID, entity_id=None,
                payload={"payout_id": payout.id, "account_kind": acct.kind, "beneficiary_id": acct.beneficiary_id,
                         "gross_fen": gross, "tax_fen": tax, "occurred_at": utcnow().isoformat()})
    workspaces_service.record(session, actor=actor, action="commission.paid", entity_type="commission_payout",
                              entity_id=payout.id, changes={"account_id": account_id, "gross_fen": gross,
                                                            "tax_fen": tax})
    return payout


def create_batch(session: Session, *, actor: Actor, withholding_bp: int = 0, min_fen: int = 1) -> CommissionBatch:
    """A payout batch: every account with at least min_fen available is paid it, less the tax withheld."""
    actor.require(Permission.MANAGE)
    if not 0 <= withholding_bp <= core.BP:
        raise Invalid("withholding is between 0 and 10000 bp", field="withholding_bp")
    batch = CommissionBatch(workspace_id=actor.workspace_id, withholding_bp=withholding_bp,
                            member_id=actor.member_id)
    session.add(batch)
    session.flush()
    due = session.scalars(select(CommissionAccount.id).where(CommissionAccount.workspace_id == actor.workspace_id,
                                                             CommissionAccount.available_fen >= max(min_fen, 1))
                          .order_by(CommissionAccount.id)).all()
    for account_id in due:
        payout = pay_out(session, actor=actor, account_id=account_id, key=f"batch:{batch.id}:{account_id}",
                         withholding_bp=withholding_bp, batch=batch)
        if payout is not None:
            batch.count += 1
            batch.gross_fen += payout.gross_fen
            batch.tax_fen += payout.tax_fen
    return batch


def list_accounts(session: Session, *, actor: Actor, kind: str | None = None) -> list[CommissionAccount]:
    """The workspace's accounts, largest available first."""
    actor.require(Permission.READ)
    query = select(CommissionAccount).where(CommissionAccount.workspace_id == actor.workspace_id)
    if kind:
        query = query.where(CommissionAccount.kind == kind)
    return list(session.scalars(query.order_by(CommissionAccount.available_fen.desc(), CommissionAccount.id)))


def get_account(session: Session, *, actor: Actor, account_id: int) -> CommissionAccount:
    """One account of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, CommissionAccount, account_id, workspace_id=actor.workspace_id,
                            what="account", field="account_id")


def find_account(session: Session, *, actor: Actor, kind: str, beneficiary_id: int) -> CommissionAccount | None:
    """The beneficiary's account if it has one."""
    return session.scalar(select(CommissionAccount).where(
        CommissionAccount.workspace_id == actor.workspace_id, CommissionAccount.kind == kind,
        CommissionAccount.beneficiary_id == beneficiary_id))


def list_entries(session: Session, *, actor: Actor, account_id: int | None = None, order_id: int | None = None,
                 limit: int = 200) -> list[CommissionEntry]:
    """Entries of the workspace, newest first."""
    actor.require(Permission.READ)
    query = select(CommissionEntry).where(CommissionEntry.workspace_id == actor.workspace_id)
    if account_id is not None:
        query = query.where(CommissionEntry.account_id == account_id)
    if order_id is not None:
        query = query.where(CommissionEntry.order_id == order_id)
    return list(session.scalars(query.order_by(CommissionEntry.id.desc()).limit(limit)))


def list_batches(session: Session, *, actor: Actor) -> list[CommissionBatch]:
    """Payout batches, newest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(CommissionBatch).where(CommissionBatch.workspace_id == actor.workspace_id)
                                .order_by(CommissionBatch.id.desc())))


def get_batch(session: Session, *, actor: Actor, batch_id: int) -> tuple[CommissionBatch, list[CommissionPayout]]:
    """A batch and its payouts."""
    actor.require(Permission.READ)
    batch = get_in_workspace(session, CommissionBatch, batch_id, workspace_id=actor.workspace_id, what="batch",
                             field="batch_id")
    payouts = list(session.scalars(select(CommissionPayout).where(CommissionPayout.batch_id == batch.id)
                                   .order_by(CommissionPayout.id)))
    return batch, payouts


def check_accounts(session: Session, *, workspace_id: int) -> list[str]:
    """Accounts whose balances differ from the sum of their entries (empty when the ledger is exact)."""
    wrong = []
    for acct in session.scalars(select(CommissionAccount).where(CommissionAccount.workspace_id == workspace_id)):
        sums = dict.fromkeys(BUCKET.values(), 0)
        reversed_total = 0
        for entry in session.scalars(select(CommissionEntry).where(CommissionEntry.account_id == acct.id)):
            reversed_total += entry.reversed_fen
            if State(entry.state) in BUCKET:
                sums[BUCKET[State(entry.state)]] += open_fen(entry)
            if entry.reversed_fen > entry.amount_fen or (entry.state == State.PAID and entry.reversed_fen
                                                         and entry.payout_id is None):
                wrong.append(f"entry {entry.id} reversed past its amount")
        reversals = session.scalar(select(func.coalesce(func.sum(CommissionReversal.amount_fen), 0))
                                   .join(CommissionEntry, CommissionEntry.id == CommissionReversal.entry_id)
                                   .where(CommissionEntry.account_id == acct.id))
        held = {name: getattr(acct, name) for name in sums} | {"reversed_fen": acct.reversed_fen}
        expected = sums | {"reversed_fen": reversed_total}
        if held != expected or reversals != reversed_total:
            wrong.append(f"account {acct.id}: holds {held}, entries say {expected}, reversals {reversals}")
    return wrong
