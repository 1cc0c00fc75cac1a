"""Hand-over of a staff member's customers through WeCom: 离职继承 for staff who left, 在职继承 otherwise."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import wecom
from yutang.messaging.adapters.base import ChannelError
from yutang.storage.scoped import get_in_workspace
from yutang.stores.directory import get_staff
from yutang.stores.models import Handover, HandoverItem
from yutang.stores.ownership import move, owned_by
from yutang.stores.schemas import HandoverIn, HandoverItemOut, HandoverOut, OwnershipReason
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

BATCH = 100  # customers per transfer call
WINDOW = timedelta(days=90)  # a customer of staff still employed moves at most twice in it
MOVES_IN_WINDOW = 2
RESULT = {1: "done", 2: "waiting", 3: "refused", 4: "over_limit"}
LOST = ("refused", "over_limit", "failed")
UNSENT = ("limited", "no_contact", "pending")


def _moves_in_window(session: Session, actor: Actor, customer_ids: list[int]) -> dict[int, int]:
    since = utcnow() - WINDOW
    rows = session.execute(select(HandoverItem.customer_id, func.count())
                           .join(Handover, Handover.id == HandoverItem.handover_id)
                           .where(Handover.workspace_id == actor.workspace_id, Handover.kind == "in_service",
                                  Handover.created_at >= since, HandoverItem.status.in_(("waiting", "done")),
                                  HandoverItem.customer_id.in_(customer_ids))
                           .group_by(HandoverItem.customer_id))
    return dict(rows.all())


def start_handover(session: Session, *, actor: Actor, data: HandoverIn) -> Handover:
    """Plan the hand-over and send it to WeCom in calls of 100; each customer's answer is kept."""
    actor.require(Permission.MANAGE)
    giver = get_staff(session, actor=actor, staff_id=data.from_staff_id, field="from_staff_id")
    taker = get_staff(session, actor=actor, staff_id=data.to_staff_id, field="to_staff_id")
    if giver.id == taker.id:
        raise Invalid("a hand-over goes to another staff member", field="to_staff_id")
    if taker.left_on is not None:
        raise Conflict(f"{taker.name} left on {taker.left_on} and cannot take customers over", field="to_staff_id")
    for staff, field in ((giver, "from_staff_id"), (taker, "to_staff_id")):
        if not staff.wecom_userid or staff.member_id is None:
            raise Invalid(f"{staff.name} needs a WeCom user id and a member", field=field)
    resigned = giver.left_on is not None
    if resigned and data.message:
        raise Invalid("customers of staff who left get WeCom's own notice, not a message", field="message")
    owned = owned_by(session, actor=actor, member_id=giver.member_id)
    if data.customer_ids is None:
        customer_ids = owned
    else:
        mine = set(owned)
        for index, customer_id in enumerate(data.customer_ids):
            if customer_id not in mine:
                raise Invalid(f"customer {customer_id} is not {giver.name}'s", field=f"customer_ids[{index}]")
        customer_ids = list(dict.fromkeys(data.customer_ids))
    if not customer_ids:
        raise Invalid(f"{giver.name} owns no customers to hand over", field="from_staff_id")
    contacts = wecom.contacts_of_staff(session, actor=actor, config_id=data.config_id,
                                       staff_userid=giver.wecom_userid)
    handover = Handover(workspace_id=actor.workspace_id, kind="resigned" if resigned else "in_service",
                        messaging_config_id=data.config_id, from_staff_id=giver.id, to_staff_id=taker.id,
                        message=data.message, status="running" if data.send else "planned",
                        by_member_id=actor.member_id)
    session.add(handover)
    session.flush()
    moved = {} if resigned else _moves_in_window(session, actor, customer_ids)
    items = []
    for customer_id in customer_ids:
        status = ("limited" if moved.get(customer_id, 0) >= MOVES_IN_WINDOW
                  else "pending" if customer_id in contacts else "no_contact")
        items.append(HandoverItem(workspace_id=actor.workspace_id, handover_id=handover.id, customer_id=customer_id,
                                  external_userid=contacts.get(customer_id), status=status))
    session.add_all(items)
    if data.send:
        _send(session, actor, handover, [i for i in items if i.status == "pending"], giver.wecom_userid,
              taker.wecom_userid)
        _finish_if_settled(handover, items)
    session.flush()
    workspaces_service.record(session, actor=actor, action="handover.started", entity_type="handover",
                              entity_id=handover.id, changes={**data.model_dump(mode="json", exclude={"customer_ids"}),
                                                              "customers": len(items)})
    return handover


def send_handover(session: Session, *, actor: Actor, handover_id: int) -> Handover:
    """Send a planned hand-over to WeCom."""
    actor.require(Permission.MANAGE)
    handover = get_handover(session, actor=actor, handover_id=handover_id)
    if handover.status != "planned":
        raise Conflict(f"this hand-over is {handover.status}, not planned", field="handover_id")
    giver = get_staff(session, actor=actor, staff_id=handover.from_staff_id)
    taker = get_staff(session, actor=actor, staff_id=handover.to_staff_id)
    if taker.left_on is not None:
        raise Conflict(f"{taker.name} left on {taker.left_on} and cannot take customers over", field="to_staff_id")
    items = _items(session, handover)
    handover.status = "running"
    _send(session, actor, handover, [i for i in items if i.status == "pending"], giver.wecom_userid,
          taker.wecom_userid)
    _finish_if_settled(handover, items)
    workspaces_service.record(session, actor=actor, action="handover.sent", entity_type="handover",
                              entity_id=handover.id)
    return handover


def _send(session: Session, actor: Actor, handover: Handover, items: list[HandoverItem], giver: str,
          taker: str) -> None:
    client = wecom.client_for(session, actor=actor, config_id=handover.messaging_config_id)
    try:
        for start in range(0, len(items), BATCH):
            batch = {i.external_userid: i for i in items[start:start + BATCH]}
            try:
                answers = _transfer(client, handover, giver, taker, list(batch))
            except ChannelError as exc:
                for item in batch.values():
                    item.status, item.errcode = "failed", int(exc.code) if exc.code.lstrip("-").isdigit() else None
                continue
            for external, item in batch.items():
                code = answers.get(external, 0)
                item.status, item.errcode = ("waiting", None) if code == 0 else ("failed", code)
    finally:
        client.close()


def _transfer(client, handover: Handover, giver: str, taker: str, externals: list[str]) -> dict[str, int]:
    call = dict(handover=giver, takeover=taker, external_userids=externals, message=handover.message,
                resigned=handover.kind == "resigned")
    try:
        return client.transfer_customer(**call)
    except ChannelError as exc:
        if not exc.retryable:
            raise
        return client.transfer_customer(**call)  # WeCom asks for one retry on busy / frequency answers


def _finish_if_settled(handover: Handover, items: list[HandoverItem]) -> None:
    if not any(i.status in ("waiting", "pending") for i in items):
        handover.status, handover.finished_at = "finished", utcnow()


def sync_handover(session: Session, *, actor: Actor, handover_id: int) -> Handover:
    """Read WeCom's transfer results: done customers change owner, refused and over-limit ones stay lost."""
    actor.require(Permission.MANAGE)
    handover = get_handover(session, actor=actor, handover_id=handover_id)
    items = _items(session, handover)
    waiting = {i.external_userid: i for i in items if i.status == "waiting"}
    if not waiting:
        return handover
    giver = get_staff(session, actor=actor, staff_id=handover.from_staff_id)
    taker = get_staff(session, actor=actor, staff_id=handover.to_staff_id)
    with wecom.calling(session, actor=actor, config_id=handover.messaging_config_id, field="handover_id") as client:
        results = client.transfer_result(handover=giver.wecom_userid, takeover=taker.wecom_userid,
                                         resigned=handover.kind == "resigned")
    now = utcnow()
    for external, item in waiting.items():
        status = RESULT.get(results.get(external, (2, 0))[0], "waiting")
        if status == "waiting":
            continue
        item.status, item.settled_at = status, now
        if status == "done":
            move(session, actor=actor, customer_id=item.customer_id, member_id=taker.member_id,
                 store_id=taker.store_id, reason=OwnershipReason.HANDOVER, note=f"handover {handover.id}")
    _finish_if_settled(handover, items)
    return handover


def get_handover(session: Session, *, actor: Actor, handover_id: int) -> Handover:
    """A hand-over of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Handover, handover_id, workspace_id=actor.workspace_id, what="hand-over",
                            field="handover_id")


def _items(session: Session, handover: Handover) -> list[HandoverItem]:
    return list(session.scalars(select(HandoverItem).where(HandoverItem.handover_id == handover.id)
                                .order_by(HandoverItem.id)))


def present(session: Session, *, handover: Handover, with_items: bool = False) -> HandoverOut:
    """A hand-over with its counts per status and loss rate."""
    items = _items(session, handover)
    counts = Counter(i.status for i in items)
    sent = sum(n for status, n in counts.items() if status not in UNSENT)
    lost = sum(counts[s] for s in LOST)
    return HandoverOut(id=handover.id, kind=handover.kind, from_staff_id=handover.from_staff_id,
                       to_staff_id=handover.to_staff_id, message=handover.message, status=handover.status,
                       created_at=handover.created_at, finished_at=handover.finished_at, counts=dict(counts),
                       loss_rate=round(lost / sent, 4) if sent else 0.0,
                       items=[HandoverItemOut.model_validate(i) for i in items] if with_items else None)


def list_handovers(session: Session, *, actor: Actor, staff_id: int | None = None) -> list[Handover]:
    """Hand-overs newest first, of one giving staff member if asked."""
    actor.require(Permission.READ)
    query = select(Handover).where(Handover.workspace_id == actor.workspace_id)
    if staff_id is not None:
        query = query.where(Handover.from_staff_id == staff_id)
    return list(session.scalars(query.order_by(Handover.id.desc())))


def move_handover_items(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: hand-over rows follow the customer."""
    return session.execute(update(HandoverItem).where(HandoverItem.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount


def export_handover_items(session: Session, *, customer_id: int) -> list[dict]:
    """The hand-overs a customer was part of."""
    rows = session.scalars(select(HandoverItem).where(HandoverItem.customer_id == customer_id)
                           .order_by(HandoverItem.id))
    return [{"handover_id": r.handover_id, "status": r.status,
             "settled_at": r.settled_at.isoformat() if r.settled_at else None} for r in rows]


def erase_handover_items(session: Session, *, customer_id: int) -> None:
    """Blank the WeCom external user id of an erased customer's hand-over rows."""
    session.execute(update(HandoverItem).where(HandoverItem.customer_id == customer_id)
                    .values(external_userid=None))
