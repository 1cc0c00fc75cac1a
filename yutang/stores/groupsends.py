"""A guide's send through WeCom: a group send (add_msg_template) they confirm in the app, tracked as a task."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import wecom
from yutang.storage.topics import Topic
from yutang.stores.followups import acting_staff, by_source_key, emit, finish, get_task
from yutang.stores.models import StaffTask, StaffTaskRecipient
from yutang.stores.personas import persona_for
from yutang.stores.schemas import GroupSendIn, TaskKind, TaskStatus
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

CONFIRM_WITHIN = timedelta(hours=24)
# get_groupmsg_send_result's per-recipient status
RESULT = {0: "waiting", 1: "sent", 2: "not_contact", 3: "capped"}


def send(session: Session, *, actor: Actor, data: GroupSendIn, now: datetime | None = None) -> StaffTask:
    """Create the WeCom group send for the staff member's customers and the task of confirming it; customers who
    are not their contacts are kept as `no_contact`, those WeCom refused as `refused`."""
    actor.require(Permission.WRITE)
    found = by_source_key(session, actor, data.source_key)
    if found is not None:
        return found
    now = now or utcnow()
    staff = acting_staff(session, actor, data.staff_id)
    if staff.left_on is not None:
        raise Conflict(f"{staff.name} left on {staff.left_on}", field="staff_id")
    if not staff.wecom_userid:
        raise Invalid(f"{staff.name} has no WeCom user id", field="staff_id")
    customer_ids = list(dict.fromkeys(data.customer_ids))
    seen = {c.id for c in customers_service.visible_by_id(session, actor=actor, customer_ids=customer_ids)}
    for index, customer_id in enumerate(customer_ids):
        if customer_id not in seen:
            raise Invalid(f"no such customer {customer_id}", field=f"customer_ids[{index}]")
    contacts = wecom.contacts_of_staff(session, actor=actor, config_id=data.config_id,
                                       staff_userid=staff.wecom_userid)
    externals = [contacts[c] for c in customer_ids if c in contacts]
    if not externals:
        raise Invalid(f"none of these customers is a WeCom contact of {staff.name}", field="customer_ids")
    due = data.due_at or now + CONFIRM_WITHIN
    with wecom.calling(session, actor=actor, config_id=data.config_id, field="customer_ids") as client:
        msgid, failed = client.add_msg_template(external_userids=externals, text=data.text,
                                                sender=staff.wecom_userid)
    refused = set(failed)
    persona = persona_for(session, staff)
    task = StaffTask(workspace_id=actor.workspace_id, staff_id=staff.id, kind=TaskKind.GROUP_SEND.value,
                     title=data.text[:60], note=data.text, due_at=due, status=TaskStatus.WAITING.value,
                     source_key=data.source_key, messaging_config_id=data.config_id, text=data.text, msgid=msgid,
                     by_member_id=actor.member_id, persona_id=persona.id if persona else None)
    session.add(task)
    session.flush()
    session.add_all(StaffTaskRecipient(
        workspace_id=actor.workspace_id, task_id=task.id, customer_id=c, external_userid=contacts.get(c),
        status="no_contact" if c not in contacts else "refused" if contacts[c] in refused else "waiting")
        for c in customer_ids)
    session.flush()
    emit(session, task, staff, Topic.TASK_CREATED)
    workspaces_service.record(session, actor=actor, action="task.group_send", entity_type="staff_task",
                              entity_id=task.id, changes={"customers": len(customer_ids), "refused": len(refused),
                                                       "staff_id": staff.id, "persona_id": task.persona_id})
    return task


def sync(session: Session, *, actor: Actor, task_id: int) -> StaffTask:
    """Read WeCom's answer: once the sender confirmed (get_groupmsg_task) the task is done at that time, late if
    after it was due; each recipient's result comes from get_groupmsg_send_result."""
    actor.require(Permission.WRITE)
    task = get_task(session, actor=actor, task_id=task_id)
    if task.kind != TaskKind.GROUP_SEND.value:
        raise Invalid("only group sends are synced with WeCom", field="task_id")
    if task.messaging_config_id is None:
        raise Conflict("this group send's WeCom configuration is gone", field="task_id")
    rows = list(session.scalars(select(StaffTaskRecipient).where(StaffTaskRecipient.task_id == task.id,
                                                                 StaffTaskRecipient.status == "waiting")))
    if task.status != TaskStatus.WAITING.value and not rows:
        return task
    staff = acting_staff(session, actor, task.staff_id)
    with wecom.calling(session, actor=actor, config_id=task.messaging_config_id, field="task_id") as client:
        senders = client.send_task(msgid=task.msgid)
        results = {r["external_userid"]: r for r in client.send_results(msgid=task.msgid,
                                                                        staff_userid=staff.wecom_userid)}
    for row in rows:
        answer = results.get(row.external_userid)
        if answer is None or not answer.get("status"):
            continue
        row.status = RESULT.get(int(answer["status"]), "waiting")
        row.sent_at = datetime.fromtimestamp(answer["send_time"], UTC) if answer.get("send_time") else None
    mine = next((s for s in senders if s.get("userid") == staff.wecom_userid), None)
    if task.status == TaskStatus.WAITING.value and mine is not None and int(mine.get("status", 0)) == 2:
        at = datetime.fromtimestamp(mine["send_time"], UTC) if mine.get("send_time") else utcnow()
        finish(session, task, at)
    return task


def waiting_sends(session: Session, *, workspace_id: int) -> list[int]:
    """Ids of group-send tasks still waiting for WeCom (for the sync job)."""
    return list(session.scalars(select(StaffTask.id).where(StaffTask.workspace_id == workspace_id,
                                                           StaffTask.kind == TaskKind.GROUP_SEND.value,
                                                           StaffTask.status == TaskStatus.WAITING.value)))
