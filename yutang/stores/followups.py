"""Staff follow-up tasks (跟进任务): created by hand or by jobs (idempotent on a source key), to-do lists, check-off."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.stores.directory import get_staff, staff_of_member
from yutang.stores.models import Staff, StaffTask, StaffTaskRecipient
from yutang.stores.personas import persona_for
from yutang.stores.schemas import TaskIn, TaskKind, TaskOut, TaskStatus
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

OPEN = (TaskStatus.OPEN.value, TaskStatus.WAITING.value)


def acting_staff(session: Session, actor: Actor, staff_id: int | None, *, field: str = "staff_id") -> Staff:
    """The staff member named, or the caller's own staff record; scoped roles reach only their team's."""
    if staff_id is None:
        mine = staff_of_member(session, workspace_id=actor.workspace_id, member_id=actor.member_id) \
            if actor.member_id is not None else None
        if mine is None:
            raise Invalid("name the staff member (the caller is not one)", field=field)
        return mine
    staff = get_staff(session, actor=actor, staff_id=staff_id, field=field)
    if actor.sees_own_customers_only and staff.member_id not in actor.owners_seen:
        raise NotFound("no such staff member", field=field)
    return staff


def emit(session: Session, task: StaffTask, staff: Staff, topic: Topic) -> None:
    """Record a task's creation or completion for the warehouse and webhooks."""
    outbox.emit(session, workspace_id=task.workspace_id, topic=topic, entity_id=task.customer_id, payload={
        "task_id": task.id, "staff_id": task.staff_id, "member_id": staff.member_id, "customer_id": task.customer_id,
        "kind": task.kind, "due_at": task.due_at.isoformat(),
        "done_at": task.done_at.isoformat() if task.done_at else None, "late": task.late,
        "source_key": task.source_key, "persona_id": task.persona_id})


def by_source_key(session: Session, actor: Actor, source_key: str | None) -> StaffTask | None:
    """The task created earlier with this source key, if any."""
    if source_key is None:
        return None
    return session.scalar(select(StaffTask).where(StaffTask.workspace_id == actor.workspace_id,
                                                  StaffTask.source_key == source_key))


def create_task(session: Session, *, actor: Actor, data: TaskIn) -> tuple[StaffTask, bool]:
    """Give a staff member a task; a second call with the same source key returns the first. (task, created)."""
    actor.require(Permission.WRITE)
    if data.kind is TaskKind.GROUP_SEND:
        raise Invalid("group sends are created by sending (POST /v1/stores/tasks/send)", field="kind")
    found = by_source_key(session, actor, data.source_key)
    if found is not None:
        return found, False
    staff = acting_staff(session, actor, data.staff_id)
    if staff.left_on is not None:
        raise Conflict(f"{staff.name} left on {staff.left_on} and takes no tasks", field="staff_id")
    if data.customer_id is not None:
        customers_service.get_customer(session, actor=actor, customer_id=data.customer_id)
    if data.remind_at is not None and data.remind_at > data.due_at:
        raise Invalid("a reminder comes before the task is due", field="remind_at")
    persona = persona_for(session, staff)
    task = StaffTask(workspace_id=actor.workspace_id, staff_id=staff.id, customer_id=data.customer_id,
                     kind=data.kind.value, title=data.title, note=data.note, due_at=data.due_at,
                     remind_at=data.remind_at, status=TaskStatus.OPEN.value, source_key=data.source_key,
                     by_member_id=actor.member_id, persona_id=persona.id if persona else None)
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:  # a concurrent creation with the same key won
        found = by_source_key(session, actor, data.source_key)
        if found is None:
            raise
        return found, False
    emit(session, task, staff, Topic.TASK_CREATED)
    return task, True


def get_task(session: Session, *, actor: Actor, task_id: int) -> StaffTask:
    """A task the actor may see (a guide: their own; managers: their team's)."""
    actor.require(Permission.READ)
    query = select(StaffTask).where(StaffTask.workspace_id == actor.workspace_id, StaffTask.id == task_id)
    if actor.sees_own_customers_only:
        query = query.where(StaffTask.staff_id.in_(_team_staff(actor)))
    task = session.scalar(query)
    if task is None:
        raise NotFound("no such task", field="task_id")
    return task


def _team_staff(actor: Actor):
    return select(Staff.id).where(Staff.workspace_id == actor.workspace_id,
                                  Staff.member_id.in_(sorted(actor.owners_seen)))


def complete_task(session: Session, *, actor: Actor, task_id: int, now: datetime | None = None) -> StaffTask:
    """Check a task off; done after it was due makes it late. Group sends are done when WeCom says so."""
    actor.require(Permission.WRITE)
    task = get_task(session, actor=actor, task_id=task_id)
    if task.kind == TaskKind.GROUP_SEND.value:
        raise Conflict("a group send is done when the staff member confirms it in WeCom", field="task_id")
    if task.status != TaskStatus.OPEN.value:
        raise Conflict(f"this task is {task.status}", field="task_id")
    finish(session, task, now or utcnow())
    if task.persona_id is not None:  # done in a persona's name: the audit keeps who really did it
        workspaces_service.record(session, actor=actor, action="task.done", entity_type="staff_task",
                                  entity_id=task.id, changes={"persona_id": task.persona_id, "staff_id": task.staff_id})
    return task


def finish(session: Session, task: StaffTask, at: datetime) -> None:
    """Mark a task done at `at` (late if after it was due) and record it."""
    task.status, task.done_at, task.late = TaskStatus.DONE.value, at, at > task.due_at
    session.flush()
    emit(session, task, session.get(Staff, task.staff_id), Topic.TASK_DONE)


def cancel_task(session: Session, *, actor: Actor, task_id: int) -> StaffTask:
    """Cancel an open task."""
    actor.require(Permission.WRITE)
    task = get_task(session, actor=actor, task_id=task_id)
    if task.status not in OPEN:
        raise Conflict(f"this task is {task.status}", field="task_id")
    task.status = TaskStatus.CANCELLED.value
    return task


def day_bounds(actor: Actor, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the actor's local today."""
    zone = ZoneInfo(actor.timezone)
    local = (now or utcnow()).astimezone(zone)
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
    return start, start + timedelta(days=1)


def list_tasks(session: Session, *, actor: Actor, staff_id: int | None = None, today: bool = False,
               status: TaskStatus | None = None, customer_id: int | None = None, now: datetime | None = None,
               limit: int = 200) -> list[StaffTask]:
    """Tasks by due time; `today`: the to-do list (open ones due by the end of today, overdue included, and those
    done today)."""
    actor.require(Permission.READ)
    query = select(StaffTask).where(StaffTask.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(StaffTask.staff_id.in_(_team_staff(actor)))
    if staff_id is not None:
        query = query.where(StaffTask.staff_id == staff_id)
    if customer_id is not None:
        query = query.where(StaffTask.customer_id == customer_id)
    if status is not None:
        query = query.where(StaffTask.status == status.value)
    if today:
        start, end = day_bounds(actor, now)
        query = query.where(((StaffTask.status.in_(OPEN)) & (StaffTask.due_at < end))
                            | ((StaffTask.status == TaskStatus.DONE.value) & (StaffTask.done_at >= start)))
    return list(session.scalars(query.order_by(StaffTask.due_at, StaffTask.id).limit(limit)))


def due_reminders(session: Session, *, workspace_id: int, now: datetime | None = None) -> list[StaffTask]:
    """Open tasks whose reminder time has come and who were not reminded yet; marks them reminded."""
    now = now or utcnow()
    tasks = list(session.scalars(select(StaffTask).where(
        StaffTask.workspace_id == workspace_id, StaffTask.status.in_(OPEN), StaffTask.reminded.is_(False),
        StaffTask.remind_at.is_not(None), StaffTask.remind_at <= now).order_by(StaffTask.remind_at)))
    for task in tasks:
        task.reminded = True
    return tasks


def present(session: Session, *, tasks: list[StaffTask]) -> list[TaskOut]:
    """API shapes; group sends carry their recipients' counts per status (one query for all)."""
    sends = [t.id for t in tasks if t.kind == TaskKind.GROUP_SEND.value]
    counts: dict[int, Counter] = {t: Counter() for t in sends}
    if sends:
        for task_id, status in session.execute(select(StaffTaskRecipient.task_id, StaffTaskRecipient.status)
                                               .where(StaffTaskRecipient.task_id.in_(sends))):
            counts[task_id][status] += 1
    return [TaskOut.model_validate(t).model_copy(update={"counts": dict(counts[t.id]) if t.id in counts else None})
            for t in tasks]


def move_tasks(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: tasks follow the customer."""
    return session.execute(update(StaffTask).where(StaffTask.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount or 0


def move_recipients(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: group-send rows follow the customer."""
    return session.execute(update(StaffTaskRecipient).where(StaffTaskRecipient.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount or 0


def export_tasks(session: Session, *, customer_id: int) -> list[dict]:
    """The staff tasks about a customer."""
    rows = session.scalars(select(StaffTask).where(StaffTask.customer_id == customer_id).order_by(StaffTask.id))
    return [{"task_id": t.id, "kind": t.kind, "title": t.title, "note": t.note, "status": t.status,
             "due_at": t.due_at.isoformat()} for t in rows]


def erase_tasks(session: Session, *, customer_id: int) -> None:
    """An erased customer's tasks go (their titles and notes are free text about the person)."""
    session.execute(delete(StaffTask).where(StaffTask.customer_id == customer_id))


def export_recipients(session: Session, *, customer_id: int) -> list[dict]:
    """The group sends a customer was in."""
    rows = session.scalars(select(StaffTaskRecipient).where(StaffTaskRecipient.customer_id == customer_id)
                           .order_by(StaffTaskRecipient.id))
    return [{"task_id": r.task_id, "status": r.status,
             "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in rows]


def erase_recipients(session: Session, *, customer_id: int) -> None:
    """Blank the WeCom external user id of an erased customer's group-send rows."""
    session.execute(update(StaffTaskRecipient).where(StaffTaskRecipient.customer_id == customer_id)
                    .values(external_userid=None))
