"""Persona accounts (centralised mode): one face for customers, several staff behind it, each act traced to them."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.kit.errors import Conflict, Invalid
from yutang.storage.scoped import get_in_workspace
from yutang.stores.models import Persona, Staff, StaffTask
from yutang.stores.schemas import PersonaActionOut, PersonaIn, PersonaOut, PersonaPatch
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def get_persona(session: Session, *, actor: Actor, persona_id: int) -> Persona:
    """A persona of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Persona, persona_id, workspace_id=actor.workspace_id, what="persona",
                            field="persona_id")


def present(session: Session, *, personas: list[Persona]) -> list[PersonaOut]:
    """API shapes with the staff behind each persona (one query)."""
    behind: dict[int, list[int]] = {p.id: [] for p in personas}
    if personas:
        for staff_id, persona_id in session.execute(select(Staff.id, Staff.persona_id)
                                                    .where(Staff.persona_id.in_(list(behind))).order_by(Staff.id)):
            behind[persona_id].append(staff_id)
    return [PersonaOut(id=p.id, name=p.name, avatar_url=p.avatar_url, wecom_alias=p.wecom_alias,
                       external_position=p.external_position, external_profile=p.external_profile, active=p.active,
                       staff_ids=behind[p.id], created_at=p.created_at) for p in personas]


def _assign(session: Session, actor: Actor, persona: Persona, staff_ids: list[int]) -> None:
    wanted = list(dict.fromkeys(staff_ids))
    found = {s.id: s for s in session.scalars(select(Staff).where(Staff.workspace_id == actor.workspace_id,
                                                                  Staff.id.in_(wanted)))} if wanted else {}
    for index, staff_id in enumerate(wanted):
        staff = found.get(staff_id)
        if staff is None:
            raise Invalid(f"no staff member {staff_id}", field=f"staff_ids[{index}]")
        if staff.left_on is not None:
            raise Conflict(f"{staff.name} left on {staff.left_on}", field=f"staff_ids[{index}]")
        if staff.persona_id not in (None, persona.id):
            raise Conflict(f"{staff.name} already works behind another persona", field=f"staff_ids[{index}]")
    for staff in session.scalars(select(Staff).where(Staff.persona_id == persona.id)):
        if staff.id not in found:
            staff.persona_id = None
    for staff in found.values():
        staff.persona_id = persona.id


def _save(session: Session, persona: Persona) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a persona named {persona.name} exists", field="name") from exc


def create_persona(session: Session, *, actor: Actor, data: PersonaIn) -> Persona:
    """Open a persona and put staff behind it (none who left, none behind another persona)."""
    actor.require(Permission.MANAGE)
    persona = Persona(workspace_id=actor.workspace_id, **data.model_dump(exclude={"staff_ids"}))
    session.add(persona)
    _save(session, persona)
    _assign(session, actor, persona, data.staff_ids)
    session.flush()
    workspaces_service.record(session, actor=actor, action="persona.created", entity_type="persona",
                              entity_id=persona.id, changes=data.model_dump(mode="json"))
    return persona


def update_persona(session: Session, *, actor: Actor, persona_id: int, data: PersonaPatch) -> Persona:
    """Change a persona's face, the staff behind it, or retire it."""
    actor.require(Permission.MANAGE)
    persona = get_persona(session, actor=actor, persona_id=persona_id)
    changes = data.changes()
    for field, value in changes.items():
        if field != "staff_ids":
            setattr(persona, field, value)
    _save(session, persona)
    if "staff_ids" in changes:
        _assign(session, actor, persona, changes["staff_ids"])
    session.flush()
    workspaces_service.record(session, actor=actor, action="persona.updated", entity_type="persona",
                              entity_id=persona.id, changes=changes)
    return persona


def list_personas(session: Session, *, actor: Actor) -> list[Persona]:
    """The workspace's personas by name."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Persona).where(Persona.workspace_id == actor.workspace_id)
                                .order_by(Persona.name, Persona.id)))


def persona_for(session: Session, staff: Staff) -> Persona | None:
    """The active persona a staff member acts as, if any."""
    if staff.persona_id is None:
        return None
    persona = session.get(Persona, staff.persona_id)
    return persona if persona is not None and persona.active else None


def activity(session: Session, *, actor: Actor, persona_id: int, limit: int = 200) -> list[PersonaActionOut]:
    """What was done in the persona's name (tasks made, checked off, WeCom sends), newest first, each with the
    real staff member behind it."""
    persona = get_persona(session, actor=actor, persona_id=persona_id)
    query = (select(StaffTask, Staff).join(Staff, Staff.id == StaffTask.staff_id)
             .where(StaffTask.workspace_id == actor.workspace_id, StaffTask.persona_id == persona.id))
    if actor.sees_own_customers_only:
        query = query.where(Staff.member_id.in_(sorted(actor.owners_seen)))
    out = []
    for task, staff in session.execute(query.order_by(StaffTask.id.desc()).limit(limit)):
        kind = "group_send" if task.kind == "group_send" else "task"
        out.append(PersonaActionOut(at=task.created_at, action=f"{kind}.created", staff_id=staff.id,
                                    staff_name=staff.name, member_id=task.by_member_id, task_id=task.id,
                                    customer_id=task.customer_id))
        if task.done_at is not None:
            out.append(PersonaActionOut(at=task.done_at, action=f"{kind}.done", staff_id=staff.id,
                                        staff_name=staff.name, member_id=staff.member_id, task_id=task.id,
                                        customer_id=task.customer_id))
    return sorted(out, key=lambda a: a.at, reverse=True)[:limit]
