"""Joining a group-buy (跟团): a sequence number, quantities within caps and per-person limits under any
concurrency, idempotent per request key; the public list with masked names."""

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.groupbuy import core, ordering
from yutang.groupbuy.models import Entry, EntryLine, GroupBuy, GroupBuyItem, Take
from yutang.groupbuy.schemas import EntryLineOut, EntryOut, Fulfilment, JoinIn, PublicEntryOut, Status
from yutang.groupbuy.setup import get_groupbuy, get_point, items_of
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, NotFound
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission


def _by_key(session: Session, groupbuy_id: int, request_key: str) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.groupbuy_id == groupbuy_id, Entry.request_key == request_key))


def _replay(entry: Entry, data: JoinIn) -> Entry:
    if entry.customer_id != data.customer_id:
        raise Conflict("this request key was used for another buyer", field="request_key")
    return entry


def join(session: Session, *, actor: Actor, groupbuy_id: int, data: JoinIn,
         now: datetime | None = None) -> tuple[Entry, bool]:
    """Join a group-buy; returns (entry, created). A repeated request key returns the first entry unchanged."""
    actor.require(Permission.WRITE)
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    if (existing := _by_key(session, groupbuy.id, data.request_key)) is not None:
        return _replay(existing, data), False
    now = now or utcnow()
    _require_open(groupbuy, now)
    # The buyer's row first: one buyer's joins run one at a time (their order, channel membership and limits).
    customer = customers_service.get_customer(session, actor=actor, customer_id=data.customer_id, for_update=True)
    customers_service.require_active(customer)
    if data.point_id is not None:
        get_point(session, actor=actor, point_id=data.point_id)
    elif groupbuy.fulfilment == Fulfilment.PICKUP:
        raise NotFound("choose a pick-up point", field="point_id")
    items = {item.id: item for item in items_of(session, groupbuy_id=groupbuy.id)}
    kind = core.DepositKind(groupbuy.deposit_kind)
    wanted: list[tuple[int, GroupBuyItem, int, int]] = []
    for i, line in enumerate(data.lines):
        item = items.get(line.item_id)
        if item is None:
            raise NotFound("no such item in this group-buy", field=f"lines.{i}.item_id")
        if problem := core.join_problem(quantity=line.quantity, per_person_limit=item.per_person_limit,
                                        already_mine=0, remaining=item.cap):
            raise Conflict(problem, field=f"lines.{i}.quantity")  # over the limit or cap on its own
        upfront = core.upfront_fen(kind, price_fen=item.price_fen, deposit_fen=item.deposit_fen,
                                   quantity=line.quantity)
        wanted.append((i, item, line.quantity, upfront))
    # The order first, outside the hot rows: what follows holds the group-buy's and the items' rows until commit.
    order = ordering.sync(session, actor=actor, groupbuy_id=groupbuy.id, request_key=data.request_key,
                          customer_id=customer.id, placed_at=now,
                          lines=[(item, quantity, core.LineStatus.JOINED, upfront, 0)
                                 for _, item, quantity, upfront in wanted])
    number = _take_number(session, groupbuy, now)
    if (existing := _by_key(session, groupbuy.id, data.request_key)) is not None:
        # The same request raced this one and won: give its number back (the row is ours until commit).
        session.execute(update(GroupBuy).where(GroupBuy.id == groupbuy.id)
                        .values(last_number=GroupBuy.last_number - 1).execution_options(synchronize_session=False))
        return _replay(existing, data), False
    for i, item, quantity, _ in sorted(wanted, key=lambda w: w[1].id):
        _take(session, actor=actor, item=item, customer_id=customer.id, quantity=quantity, field=f"lines.{i}.quantity",
              now=now)
    entry = Entry(workspace_id=actor.workspace_id, groupbuy_id=groupbuy.id, number=number,
                  request_key=data.request_key, customer_id=customer.id, shown_name=core.masked(customer.name),
                  point_id=data.point_id, remark=data.remark, code=f"{number}{secrets.randbelow(10**6):06d}",
                  order_id=order.id, created_at=now)
    session.add(entry)
    session.flush()
    session.add_all(EntryLine(workspace_id=actor.workspace_id, entry_id=entry.id, item_id=item.id, quantity=quantity,
                              status=core.LineStatus.JOINED.value, paid_fen=upfront)
                    for _, item, quantity, upfront in wanted)
    session.flush()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.GROUPBUY_JOINED, entity_id=entry.id,
                payload=payload(entry, [(item.sku, quantity) for _, item, quantity, _ in wanted],
                                amount_fen=sum(upfront for *_, upfront in wanted), at=now))
    return entry, True


def payload(entry: Entry, lines: list[tuple[str, int]], *, amount_fen: int, at: datetime) -> dict:
    """The outbox payload of an entry's change."""
    return {"groupbuy_id": entry.groupbuy_id, "entry_id": entry.id, "number": entry.number,
            "customer_id": entry.customer_id, "order_id": entry.order_id,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], "amount_fen": amount_fen,
            "occurred_at": at.isoformat()}


def _require_open(groupbuy: GroupBuy, now: datetime) -> None:
    if groupbuy.status == Status.DRAFT:
        raise Conflict("this group-buy is not published yet", field="groupbuy_id")
    if groupbuy.status == Status.CLOSED or groupbuy.cutoff_at <= now:
        raise Conflict("joining closed at the cut-off", field="groupbuy_id")
    if groupbuy.starts_at > now:
        raise Conflict("joining has not started yet", field="groupbuy_id")


def _take_number(session: Session, groupbuy: GroupBuy, now: datetime) -> int:
    """The next 跟团号, in one conditional UPDATE that also refuses a group-buy cut off meanwhile."""
    number = session.execute(
        update(GroupBuy).where(GroupBuy.id == groupbuy.id, GroupBuy.status == Status.OPEN.value,
                               GroupBuy.cutoff_at > now)
        .values(last_number=GroupBuy.last_number + 1).returning(GroupBuy.last_number)
        .execution_options(synchronize_session=False)).scalar()
    if number is None:
        raise Conflict("joining closed at the cut-off", field="groupbuy_id")
    return number


def _take(session: Session, *, actor: Actor, item: GroupBuyItem, customer_id: int, quantity: int, field: str,
          now: datetime) -> None:
    """Take units of an item for a buyer, or refuse: conditional UPDATEs, so neither the per-person limit nor the
    cap is ever passed, whatever runs at the same time (the rows stay locked until commit)."""
    if item.per_person_limit is not None:
        session.execute(dialect.of(session).insert_ignoring(Take.__table__, keys=["item_id", "customer_id"]).values(
            workspace_id=actor.workspace_id, item_id=item.id, customer_id=customer_id, quantity=0, created_at=now))
        took = session.execute(
            update(Take).where(Take.item_id == item.id, Take.customer_id == customer_id,
                               Take.quantity + quantity <= item.per_person_limit)
            .values(quantity=Take.quantity + quantity).returning(Take.quantity)
            .execution_options(synchronize_session=False)).scalar()
        if took is None:
            mine = session.scalar(select(Take.quantity).where(Take.item_id == item.id,
                                                              Take.customer_id == customer_id)) or 0
            raise Conflict(core.join_problem(quantity=quantity, per_person_limit=item.per_person_limit,
                                             already_mine=mine, remaining=None), field=field)
    condition = True if item.cap is None else GroupBuyItem.taken + quantity <= item.cap
    taken = session.execute(
        update(GroupBuyItem).where(GroupBuyItem.id == item.id, condition)
        .values(taken=GroupBuyItem.taken + quantity).returning(GroupBuyItem.taken)
        .execution_options(synchronize_session=False)).scalar()
    if taken is None:
        now_taken = session.scalar(select(GroupBuyItem.taken).where(GroupBuyItem.id == item.id))
        raise Conflict(core.join_problem(quantity=quantity, per_person_limit=None, already_mine=0,
                                         remaining=item.cap - now_taken), field=field)


def get_entry(session: Session, *, actor: Actor, groupbuy_id: int, entry_id: int, field: str = "entry_id") -> Entry:
    """An entry of a group-buy the actor may see."""
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.groupbuy_id != groupbuy.id:
        raise NotFound("no such entry", field=field)
    if actor.sees_own_customers_only:
        if entry.customer_id is None:
            raise NotFound("no such entry", field=field)
        try:
            customers_service.get_customer(session, actor=actor, customer_id=entry.customer_id)
        except NotFound as exc:
            raise NotFound("no such entry", field=field) from exc
    return entry


def lines_of(session: Session, *, entry_ids: list[int]) -> dict[int, list[EntryLine]]:
    """Entries' lines by entry id (item order)."""
    found: dict[int, list[EntryLine]] = {entry_id: [] for entry_id in entry_ids}
    for start in range(0, len(entry_ids), 1000):
        for line in session.scalars(select(EntryLine).where(EntryLine.entry_id.in_(entry_ids[start:start + 1000]))
                                    .order_by(EntryLine.entry_id, EntryLine.item_id)):
            found[line.entry_id].append(line)
    return found


def list_entries(session: Session, *, actor: Actor, groupbuy_id: int, after_number: int = 0,
                 limit: int = 100) -> list[Entry]:
    """A group-buy's entries by 跟团号 (a guide sees their own customers' only)."""
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    query = select(Entry).where(Entry.groupbuy_id == groupbuy.id, Entry.number > after_number)
    if actor.sees_own_customers_only:
        query = query.where(Entry.customer_id.in_(customers_service.visible_ids(actor)))
    return list(session.scalars(query.order_by(Entry.number).limit(limit)))


def present_entries(session: Session, *, entries: list[Entry]) -> list[EntryOut]:
    """Entries with their lines."""
    lines = lines_of(session, entry_ids=[entry.id for entry in entries])
    return [EntryOut.model_validate(entry).model_copy(
        update={"lines": [EntryLineOut.model_validate(line) for line in lines[entry.id]]}) for entry in entries]


def public_list(session: Session, *, actor: Actor, groupbuy_id: int, after_number: int = 0,
                limit: int = 200) -> list[PublicEntryOut]:
    """The list every buyer sees: 跟团号, masked name and quantities per SKU."""
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    entries = list(session.execute(select(Entry.id, Entry.number, Entry.shown_name)
                                   .where(Entry.groupbuy_id == groupbuy.id, Entry.number > after_number)
                                   .order_by(Entry.number).limit(limit)))
    skus = {item.id: item.sku for item in items_of(session, groupbuy_id=groupbuy.id)}
    lines = lines_of(session, entry_ids=[row.id for row in entries])
    return [PublicEntryOut(number=row.number, shown_name=row.shown_name,
                           quantities={skus[line.item_id]: line.quantity for line in lines[row.id]})
            for row in entries]


def entry_count(session: Session, *, groupbuy_id: int) -> int:
    """How many entries a group-buy has."""
    return session.scalar(select(func.count()).select_from(Entry).where(Entry.groupbuy_id == groupbuy_id)) or 0
