"""Stores and their staff."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.stores import service
from yutang.stores.schemas import (
    MONTH,
    BehaviorSyncIn,
    BehaviorSyncOut,
    ClaimIn,
    CodeIn,
    CodeOut,
    CodePatch,
    CodeStatsOut,
    GroupSendIn,
    HandoverIn,
    HandoverOut,
    KpiGroup,
    KpiMetric,
    KpisOut,
    OwnerOut,
    OwnershipSettingsIn,
    OwnershipSettingsOut,
    PersonaActionOut,
    PersonaIn,
    PersonaOut,
    PersonaPatch,
    ReassignIn,
    StaffIn,
    StaffLeave,
    StaffOut,
    StaffPatch,
    StaffSyncIn,
    StaffSyncOut,
    StoreIn,
    StoreOut,
    StorePatch,
    TargetIn,
    TargetOut,
    TaskIn,
    TaskOut,
    TaskStatus,
)

router = APIRouter(prefix="/stores", tags=["stores"])


@router.get("", response_model=list[StoreOut])
def list_stores(request: Request, actor: ActorDep,
                region: Annotated[str | None, Query(max_length=64)] = None):
    """Stores of the workspace, optionally of one region."""
    with read_only(request) as session:
        return service.list_stores(session, actor=actor, region=region)


@router.post("", response_model=StoreOut, status_code=201)
def create_store(request: Request, actor: ActorDep, data: StoreIn):
    """Open a store (also an acquisition channel)."""
    with unit_of_work(request) as session:
        return service.create_store(session, actor=actor, data=data)


@router.get("/staff", response_model=list[StaffOut])
def list_staff(request: Request, actor: ActorDep, store_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
               region: Annotated[str | None, Query(max_length=64)] = None, current: bool | None = None):
    """Staff of a store or region, current or former."""
    with read_only(request) as session:
        return service.list_staff(session, actor=actor, store_id=store_id, region=region, current=current)


@router.post("/staff", response_model=StaffOut, status_code=201)
def add_staff(request: Request, actor: ActorDep, data: StaffIn):
    """A staff member joins."""
    with unit_of_work(request) as session:
        return service.add_staff(session, actor=actor, data=data)


@router.post("/staff/wecom-sync", response_model=StaffSyncOut)
def sync_staff(request: Request, actor: ActorDep, data: StaffSyncIn):
    """Compare staff with WeCom's members who may have customers; add new ones to a store, list the gone."""
    with unit_of_work(request) as session:
        return service.sync_staff(session, actor=actor, data=data)


@router.get("/staff/{staff_id}", response_model=StaffOut)
def get_staff(request: Request, actor: ActorDep, staff_id: IdPath):
    """One staff member."""
    with read_only(request) as session:
        return service.get_staff(session, actor=actor, staff_id=staff_id)


@router.patch("/staff/{staff_id}", response_model=StaffOut)
def update_staff(request: Request, actor: ActorDep, staff_id: IdPath, data: StaffPatch):
    """Move a staff member or correct their links."""
    with unit_of_work(request) as session:
        return service.update_staff(session, actor=actor, staff_id=staff_id, data=data)


@router.post("/staff/{staff_id}/leave", response_model=StaffOut)
def staff_leaves(request: Request, actor: ActorDep, staff_id: IdPath, data: StaffLeave):
    """A staff member leaves."""
    with unit_of_work(request) as session:
        return service.staff_leaves(session, actor=actor, staff_id=staff_id, data=data)


@router.get("/codes", response_model=list[CodeOut])
def list_codes(request: Request, actor: ActorDep, store_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
               include_deleted: bool = False):
    """Channel QR codes, of one store if asked."""
    with read_only(request) as session:
        return service.list_codes(session, actor=actor, store_id=store_id, include_deleted=include_deleted)


@router.post("/codes", response_model=CodeOut, status_code=201)
def create_code(request: Request, actor: ActorDep, data: CodeIn):
    """Create a channel QR code (a WeCom contact way whose state is the code)."""
    with unit_of_work(request) as session:
        return service.create_code(session, actor=actor, data=data)


@router.get("/codes/{code_id}", response_model=CodeOut)
def get_code(request: Request, actor: ActorDep, code_id: IdPath):
    """One channel QR code."""
    with read_only(request) as session:
        return service.get_code(session, actor=actor, code_id=code_id)


@router.patch("/codes/{code_id}", response_model=CodeOut)
def update_code(request: Request, actor: ActorDep, code_id: IdPath, data: CodePatch):
    """Change a code's staff, verification, welcome message or tags."""
    with unit_of_work(request) as session:
        return service.update_code(session, actor=actor, code_id=code_id, data=data)


@router.delete("/codes/{code_id}", response_model=CodeOut)
def delete_code(request: Request, actor: ActorDep, code_id: IdPath):
    """Delete a code's WeCom contact way; its figures stay."""
    with unit_of_work(request) as session:
        return service.delete_code(session, actor=actor, code_id=code_id)


@router.get("/codes/{code_id}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the QR image for print"}})
def code_qr(request: Request, actor: ActorDep, code_id: IdPath):
    """The code's QR image (PNG), rendered locally."""
    with read_only(request) as session:
        png = service.qr_png(session, actor=actor, code_id=code_id)
    return Response(png, media_type="image/png")


@router.get("/codes/{code_id}/stats", response_model=CodeStatsOut)
def code_stats(request: Request, actor: ActorDep, code_id: IdPath):
    """Adds, deletions and conversions of a code."""
    with read_only(request) as session:
        return service.code_stats(session, actor=actor, code_id=code_id)


@router.get("/handovers", response_model=list[HandoverOut])
def list_handovers(request: Request, actor: ActorDep,
                   staff_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None):
    """Hand-overs newest first, with counts per status and loss rate."""
    with read_only(request) as session:
        return [service.present(session, handover=h)
                for h in service.list_handovers(session, actor=actor, staff_id=staff_id)]


@router.post("/handovers", response_model=HandoverOut, status_code=201)
def start_handover(request: Request, actor: ActorDep, data: HandoverIn):
    """Hand a staff member's customers to another through WeCom (calls of 100)."""
    with unit_of_work(request) as session:
        handover = service.start_handover(session, actor=actor, data=data)
        return service.present(session, handover=handover, with_items=True)


@router.get("/handovers/{handover_id}", response_model=HandoverOut)
def get_handover(request: Request, actor: ActorDep, handover_id: IdPath):
    """One hand-over with each customer's status."""
    with read_only(request) as session:
        return service.present(session, handover=service.get_handover(session, actor=actor, handover_id=handover_id),
                               with_items=True)


@router.post("/handovers/{handover_id}/send", response_model=HandoverOut)
def send_handover(request: Request, actor: ActorDep, handover_id: IdPath):
    """Send a planned hand-over to WeCom."""
    with unit_of_work(request) as session:
        handover = service.send_handover(session, actor=actor, handover_id=handover_id)
        return service.present(session, handover=handover, with_items=True)


@router.post("/handovers/{handover_id}/sync", response_model=HandoverOut)
def sync_handover(request: Request, actor: ActorDep, handover_id: IdPath):
    """Read WeCom's transfer results; customers taken over change owner."""
    with unit_of_work(request) as session:
        handover = service.sync_handover(session, actor=actor, handover_id=handover_id)
        return service.present(session, handover=handover, with_items=True)


@router.get("/ownership/settings", response_model=OwnershipSettingsOut)
def ownership_settings(request: Request, actor: ActorDep):
    """The ownership rule and protection period."""
    with read_only(request) as session:
        return service.settings_of(session, actor=actor)


@router.put("/ownership/settings", response_model=OwnershipSettingsOut)
def put_ownership_settings(request: Request, actor: ActorDep, data: OwnershipSettingsIn):
    """Set the ownership rule (first add wins, or store assignment) and protection period."""
    with unit_of_work(request) as session:
        return service.put_settings(session, actor=actor, data=data)


@router.get("/owners/{customer_id}", response_model=OwnerOut)
def owner_of(request: Request, actor: ActorDep, customer_id: IdPath):
    """A customer's owning guide, store, protection and ownership history."""
    with read_only(request) as session:
        return service.owner_of(session, actor=actor, customer_id=customer_id)


@router.post("/owners/{customer_id}/claim", response_model=OwnerOut)
def claim(request: Request, actor: ActorDep, customer_id: IdPath, data: ClaimIn):
    """A staff member added the customer: the ownership rule decides who owns them (`outcome` says what happened)."""
    with unit_of_work(request) as session:
        _, outcome = service.claim(session, actor=actor, customer_id=customer_id, data=data)
        return service.owner_of(session, actor=actor, customer_id=customer_id, outcome=outcome)


@router.post("/owners/{customer_id}/reassign", response_model=OwnerOut)
def reassign(request: Request, actor: ActorDep, customer_id: IdPath, data: ReassignIn):
    """Give the customer to another owner by hand; recorded in the history."""
    with unit_of_work(request) as session:
        service.reassign(session, actor=actor, customer_id=customer_id, data=data)
        return service.owner_of(session, actor=actor, customer_id=customer_id)


@router.get("/tasks", response_model=list[TaskOut])
def list_tasks(request: Request, actor: ActorDep, staff_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
               customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None, today: bool = False,
               status: TaskStatus | None = None):
    """Staff tasks by due time (a guide: their own); `today` is the to-do list."""
    with read_only(request) as session:
        tasks = service.list_tasks(session, actor=actor, staff_id=staff_id, customer_id=customer_id, today=today,
                                   status=status)
        return service.present_tasks(session, tasks=tasks)


@router.post("/tasks", response_model=TaskOut, status_code=201)
def create_task(request: Request, response: Response, actor: ActorDep, data: TaskIn):
    """Give a staff member a follow-up task; the same source key again answers 200 with the first task."""
    with unit_of_work(request) as session:
        task, created = service.create_task(session, actor=actor, data=data)
        if not created:
            response.status_code = 200
        return service.present_tasks(session, tasks=[task])[0]


@router.post("/tasks/send", response_model=TaskOut, status_code=201)
def send_through_wecom(request: Request, actor: ActorDep, data: GroupSendIn):
    """Create a WeCom group send the staff member confirms in the app, tracked as a task."""
    with unit_of_work(request) as session:
        task = service.send_through_wecom(session, actor=actor, data=data)
        return service.present_tasks(session, tasks=[task])[0]


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(request: Request, actor: ActorDep, task_id: IdPath):
    """One staff task."""
    with read_only(request) as session:
        return service.present_tasks(session, tasks=[service.get_task(session, actor=actor, task_id=task_id)])[0]


@router.post("/tasks/{task_id}/done", response_model=TaskOut)
def complete_task(request: Request, actor: ActorDep, task_id: IdPath):
    """Check a task off (late when after it was due)."""
    with unit_of_work(request) as session:
        task = service.complete_task(session, actor=actor, task_id=task_id)
        return service.present_tasks(session, tasks=[task])[0]


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut)
def cancel_task(request: Request, actor: ActorDep, task_id: IdPath):
    """Cancel an open task."""
    with unit_of_work(request) as session:
        task = service.cancel_task(session, actor=actor, task_id=task_id)
        return service.present_tasks(session, tasks=[task])[0]


@router.post("/tasks/{task_id}/sync", response_model=TaskOut)
def sync_group_send(request: Request, actor: ActorDep, task_id: IdPath):
    """Read a group send's confirmation and per-customer results from WeCom."""
    with unit_of_work(request) as session:
        task = service.sync_group_send(session, actor=actor, task_id=task_id)
        return service.present_tasks(session, tasks=[task])[0]


@router.get("/kpis", response_model=KpisOut)
def kpis(request: Request, actor: ActorDep, since: date, until: date, group_by: KpiGroup = KpiGroup.GUIDE,
         rank_by: KpiMetric = KpiMetric.GMV_FEN):
    """Guide KPIs over local days since..until, per guide, store or region, ranked (a leaderboard)."""
    with read_only(request) as session:
        return service.kpis(session, actor=actor, since=since, until=until, group_by=group_by, rank_by=rank_by)


@router.get("/kpis/targets", response_model=list[TargetOut])
def list_targets(request: Request, actor: ActorDep, month: Annotated[str, Query(pattern=MONTH)]):
    """Every guide's targets for a month (YYYY-MM)."""
    with read_only(request) as session:
        return service.list_targets(session, actor=actor, month=month)


@router.put("/kpis/targets", response_model=TargetOut)
def put_target(request: Request, actor: ActorDep, data: TargetIn):
    """Set a guide's new-add and GMV (fen) targets for a month; managers for their team."""
    with unit_of_work(request) as session:
        return service.put_target(session, actor=actor, data=data)


@router.post("/kpis/behavior-sync", response_model=BehaviorSyncOut)
def behavior_sync(request: Request, actor: ActorDep, data: BehaviorSyncIn):
    """Fetch a past day's WeCom contact statistics of every guide (one call each; stored days are skipped)."""
    with unit_of_work(request) as session:
        return service.fetch_behavior(session, actor=actor, config_id=data.config_id,
                                      day=data.day or service.yesterday(actor), refresh=data.refresh)


@router.get("/personas", response_model=list[PersonaOut])
def list_personas(request: Request, actor: ActorDep):
    """Persona accounts with the staff behind each."""
    with read_only(request) as session:
        return service.present_personas(session, personas=service.list_personas(session, actor=actor))


@router.post("/personas", response_model=PersonaOut, status_code=201)
def create_persona(request: Request, actor: ActorDep, data: PersonaIn):
    """Open a persona account and put staff behind it."""
    with unit_of_work(request) as session:
        persona = service.create_persona(session, actor=actor, data=data)
        return service.present_personas(session, personas=[persona])[0]


@router.get("/personas/{persona_id}", response_model=PersonaOut)
def get_persona(request: Request, actor: ActorDep, persona_id: IdPath):
    """One persona."""
    with read_only(request) as session:
        persona = service.get_persona(session, actor=actor, persona_id=persona_id)
        return service.present_personas(session, personas=[persona])[0]


@router.patch("/personas/{persona_id}", response_model=PersonaOut)
def update_persona(request: Request, actor: ActorDep, persona_id: IdPath, data: PersonaPatch):
    """Change a persona's face or the staff behind it."""
    with unit_of_work(request) as session:
        persona = service.update_persona(session, actor=actor, persona_id=persona_id, data=data)
        return service.present_personas(session, personas=[persona])[0]


@router.get("/personas/{persona_id}/activity", response_model=list[PersonaActionOut])
def persona_activity(request: Request, actor: ActorDep, persona_id: IdPath):
    """What was done in the persona's name, newest first, with the real staff member behind each act."""
    with read_only(request) as session:
        return service.persona_activity(session, actor=actor, persona_id=persona_id)


@router.get("/{store_id}", response_model=StoreOut)
def get_store(request: Request, actor: ActorDep, store_id: IdPath):
    """One store."""
    with read_only(request) as session:
        return service.get_store(session, actor=actor, store_id=store_id)


@router.patch("/{store_id}", response_model=StoreOut)
def update_store(request: Request, actor: ActorDep, store_id: IdPath, data: StorePatch):
    """Change a store."""
    with unit_of_work(request) as session:
        return service.update_store(session, actor=actor, store_id=store_id, data=data)
