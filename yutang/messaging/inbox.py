"""The customer-service inbox: inbound messages become threads, routed to the customer's own staff member or
round robin through a team queue (members under their reception limit), with replies and response times."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn
from yutang.customers.service import Customer
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import service
from yutang.messaging.models import ChannelConfig, InboxQueue, InboxQueueMember, Message, Thread
from yutang.messaging.schemas import InboundIn, MessageIn, Purpose, QueueIn, QueueOut, ReplyIn, Status, ThreadOut
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

OPEN, RESOLVED = "open", "resolved"


# ---- queues ---------------------------------------------------------------------------------------------


def create_queue(session: Session, *, actor: Actor, data: QueueIn) -> InboxQueue:
    """A team queue with its members (round robin in member order)."""
    actor.require(Permission.ADMIN)
    if session.scalar(select(InboxQueue.id).where(InboxQueue.workspace_id == actor.workspace_id,
                                                  InboxQueue.name == data.name)):
        raise Conflict(f"a queue named {data.name!r} exists", field="name")
    queue = InboxQueue(workspace_id=actor.workspace_id, name=data.name, reception_limit=data.reception_limit)
    session.add(queue)
    session.flush()
    for index, member_id in enumerate(dict.fromkeys(data.member_ids)):
        member = workspaces_service.get_member(session, actor=actor, member_id=member_id)
        if not member.active:
            raise Invalid("the member is not active", field=f"member_ids[{index}]")
        session.add(InboxQueueMember(workspace_id=actor.workspace_id, queue_id=queue.id, member_id=member.id))
    session.flush()
    workspaces_service.record(session, actor=actor, action="inbox.queue_created", entity_type="inbox_queue",
                              entity_id=queue.id, changes={"members": data.member_ids})
    return queue


def get_queue(session: Session, *, actor: Actor, queue_id: int) -> InboxQueue:
    """A queue of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, InboxQueue, queue_id, workspace_id=actor.workspace_id, what="queue",
                            field="queue_id")


def present_queues(session: Session, *, actor: Actor) -> list[QueueOut]:
    """The workspace's queues with their members."""
    actor.require(Permission.READ)
    queues = list(session.scalars(select(InboxQueue).where(InboxQueue.workspace_id == actor.workspace_id)
                                  .order_by(InboxQueue.id)))
    members: dict[int, list[int]] = {q.id: [] for q in queues}
    for queue_id, member_id in session.execute(
            select(InboxQueueMember.queue_id, InboxQueueMember.member_id)
            .where(InboxQueueMember.workspace_id == actor.workspace_id).order_by(InboxQueueMember.member_id)):
        members[queue_id].append(member_id)
    return [QueueOut(id=q.id, name=q.name, reception_limit=q.reception_limit, member_ids=members[q.id])
            for q in queues]


def route(session: Session, *, customer: Customer, config: ChannelConfig) -> tuple[int | None, int | None]:
    """(member, queue) for a new thread: the customer's assigned member, else the next queue member with room."""
    if customer.assigned_member_id is not None:
        return customer.assigned_member_id, None
    queue_id = config.queue_id or session.scalar(select(InboxQueue.id).where(
        InboxQueue.workspace_id == customer.workspace_id).order_by(InboxQueue.id).limit(1))
    if queue_id is None:
        return None, None
    queue = session.get(InboxQueue, queue_id, with_for_update=True)  # one router at a time per queue
    members = list(session.scalars(select(InboxQueueMember.member_id).where(InboxQueueMember.queue_id == queue.id)
                                   .order_by(InboxQueueMember.member_id)))
    if not members:
        return None, queue.id
    load = dict(session.execute(select(Thread.assigned_member_id, func.count()).where(
        Thread.workspace_id == customer.workspace_id, Thread.status == OPEN,
        Thread.assigned_member_id.in_(members)).group_by(Thread.assigned_member_id)).all())
    start = members.index(queue.last_member_id) + 1 if queue.last_member_id in members else 0
    for offset in range(len(members)):
        candidate = members[(start + offset) % len(members)]
        if load.get(candidate, 0) < queue.reception_limit:
            queue.last_member_id = candidate
            return candidate, queue.id
    return None, queue.id  # everyone is at their limit: the thread waits in the queue


def _pull_waiting(session: Session, *, workspace_id: int, member_id: int) -> None:
    # A member freed a slot: give them the oldest thread waiting in one of their queues.
    queues = select(InboxQueueMember.queue_id).where(InboxQueueMember.member_id == member_id)
    waiting = session.scalar(select(Thread).where(Thread.workspace_id == workspace_id, Thread.status == OPEN,
                                                  Thread.assigned_member_id.is_(None), Thread.queue_id.in_(queues))
                             .order_by(Thread.opened_at, Thread.id).limit(1))
    if waiting is not None:
        waiting.assigned_member_id = member_id


# ---- inbound ----------------------------------------------------------------------------------------------


def receive(session: Session, *, config: ChannelConfig, customer: Customer, body: str,
            external_id: str | None = None, at: datetime | None = None) -> tuple[Thread, Message]:
    """An inbound message: into the customer's open thread on the channel, or a new routed thread.

    A repeated external id (a channel's retry) returns what was stored the first time.
    """
    key = f"in:{config.id}:{external_id}" if external_id else None
    if key:
        seen = session.scalar(select(Message).where(Message.workspace_id == config.workspace_id,
                                                    Message.idempotency_key == key))
        if seen is not None:
            return session.get(Thread, seen.thread_id), seen
    at = at or utcnow()
    thread = session.scalar(select(Thread).where(Thread.customer_id == customer.id,
                                                 Thread.channel_config_id == config.id, Thread.status == OPEN)
                            .order_by(Thread.id.desc()).limit(1))
    if thread is None:
        member_id, queue_id = route(session, customer=customer, config=config)
        thread = Thread(workspace_id=config.workspace_id, customer_id=customer.id, channel_config_id=config.id,
                        assigned_member_id=member_id, queue_id=queue_id, status=OPEN, subject=body[:100],
                        opened_at=at)
        session.add(thread)
        session.flush()
    thread.last_message_at = at
    message = Message(workspace_id=config.workspace_id, channel_config_id=config.id, customer_id=customer.id,
                      thread_id=thread.id, direction="in", purpose=Purpose.REPLY.value, address="", body=body,
                      payload={}, status=Status.RECEIVED.value, provider_id=external_id, idempotency_key=key,
                      attempts=0, created_at=at)
    session.add(message)
    session.flush()
    service.emit_state(session, message, "received")
    return thread, message


def receive_api(session: Session, *, actor: Actor, data: InboundIn) -> tuple[Thread, Message]:
    """An integrator's inbound message: the customer is found by the identity, or created with it."""
    actor.require(Permission.WRITE)
    config = service.get_channel(session, actor=actor, config_id=data.channel_id, field="channel_id")
    try:
        identity = IdentityIn(kind=data.identity_kind, value=data.identity_value, namespace=data.identity_namespace)
    except ValueError as exc:
        raise Invalid(f"not a valid identity: {exc}", field="identity_kind") from exc
    customer, _ = customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(identities=[identity]))
    customers_service.require_active(customer)
    return receive(session, config=config, customer=customer, body=data.body, external_id=data.external_id,
                   at=data.received_at)


# ---- threads ------------------------------------------------------------------------------------------------


def get_thread(session: Session, *, actor: Actor, thread_id: int) -> Thread:
    """A thread the actor may see (guides: their customers' only)."""
    actor.require(Permission.READ)
    thread = get_in_workspace(session, Thread, thread_id, workspace_id=actor.workspace_id, what="thread",
                              field="thread_id")
    if actor.sees_own_customers_only:
        customers_service.get_customer(session, actor=actor, customer_id=thread.customer_id)
    return thread


def list_threads(session: Session, *, actor: Actor, status: str | None = OPEN, member_id: int | None = None,
                 queue_id: int | None = None, unassigned: bool = False, customer_id: int | None = None,
                 before_id: int | None = None, limit: int = 50) -> list[Thread]:
    """Threads, latest activity first by id."""
    actor.require(Permission.READ)
    query = select(Thread).where(Thread.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(Thread.customer_id.in_(customers_service.visible_ids(actor)))
    if status:
        query = query.where(Thread.status == status)
    if member_id is not None:
        query = query.where(Thread.assigned_member_id == member_id)
    if unassigned:
        query = query.where(Thread.assigned_member_id.is_(None))
    if queue_id is not None:
        query = query.where(Thread.queue_id == queue_id)
    if customer_id is not None:
        query = query.where(Thread.customer_id == customer_id)
    if before_id is not None:
        query = query.where(Thread.id < before_id)
    return list(session.scalars(query.order_by(Thread.id.desc()).limit(limit)))


def messages_of(session: Session, *, thread_id: int) -> list[Message]:
    """A thread's messages, oldest first."""
    return list(session.scalars(select(Message).where(Message.thread_id == thread_id).order_by(Message.id)))


def present(thread: Thread) -> ThreadOut:
    """A thread with its first-response and resolution times in seconds."""
    out = ThreadOut.model_validate(thread)
    if thread.first_response_at:
        out.first_response_seconds = int((thread.first_response_at - thread.opened_at).total_seconds())
    if thread.resolved_at:
        out.resolution_seconds = int((thread.resolved_at - thread.opened_at).total_seconds())
    return out


def reply(session: Session, *, actor: Actor, thread_id: int, data: ReplyIn, link_base: str | None = None) -> Message:
    """Answer in a thread through its channel (a quick-reply template or free text); the first answer times
    the first response and takes an unassigned thread."""
    actor.require(Permission.WRITE)
    thread = get_thread(session, actor=actor, thread_id=thread_id)
    if data.body is None and data.template_id is None:
        raise Invalid("give body or template_id", field="body")
    if thread.status != OPEN:
        thread.status, thread.resolved_at = OPEN, None  # answering reopens
    message = service.enqueue(session, actor=actor, link_base=link_base, thread_id=thread.id,
                              data=MessageIn(channel_id=thread.channel_config_id, customer_id=thread.customer_id,
                                             template_id=data.template_id, body=data.body, purpose=Purpose.REPLY))
    now = utcnow()
    thread.last_message_at = now
    if thread.first_response_at is None:
        thread.first_response_at = now
    if thread.assigned_member_id is None and actor.member_id is not None:
        thread.assigned_member_id = actor.member_id
    return message


def resolve(session: Session, *, actor: Actor, thread_id: int) -> Thread:
    """Close a thread; its member gets the oldest waiting thread of their queues."""
    actor.require(Permission.WRITE)
    thread = get_thread(session, actor=actor, thread_id=thread_id)
    if thread.status == RESOLVED:
        return thread
    thread.status, thread.resolved_at = RESOLVED, utcnow()
    if thread.assigned_member_id is not None:
        session.flush()
        _pull_waiting(session, workspace_id=thread.workspace_id, member_id=thread.assigned_member_id)
    workspaces_service.record(session, actor=actor, action="inbox.resolved", entity_type="inbox_thread",
                              entity_id=thread.id)
    return thread


def assign(session: Session, *, actor: Actor, thread_id: int, member_id: int) -> Thread:
    """Hand a thread to a member."""
    actor.require(Permission.WRITE)
    thread = get_thread(session, actor=actor, thread_id=thread_id)
    thread.assigned_member_id = workspaces_service.get_member(session, actor=actor, member_id=member_id).id
    workspaces_service.record(session, actor=actor, action="inbox.assigned", entity_type="inbox_thread",
                              entity_id=thread.id, changes={"member_id": member_id})
    return thread
