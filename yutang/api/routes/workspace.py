"""The calling workspace, its members, API keys and audit log."""

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.kit.fields import Id
from yutang.kit.pagination import decode_cursor
from yutang.workspaces import service
from yutang.workspaces.schemas import ApiKeyOut, AuditEntryOut, MemberIn, MemberOut, MemberPatch, WorkspaceOut

router = APIRouter(tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceOut)
def get_workspace(request: Request, actor: ActorDep):
    """The workspace the key belongs to."""
    with read_only(request) as session:
        return service.get_workspace(session, workspace_id=actor.workspace_id)


@router.get("/me")
def whoami(actor: ActorDep) -> dict:
    """Who the key acts as."""
    return {"workspace_id": actor.workspace_id, "member_id": actor.member_id, "role": actor.role.value}


@router.get("/members", response_model=list[MemberOut])
def list_members(request: Request, actor: ActorDep):
    """Members of the workspace."""
    with read_only(request) as session:
        return service.list_members(session, actor=actor)


@router.post("/members", status_code=201)
def add_member(request: Request, actor: ActorDep, data: MemberIn) -> dict:
    """Add a member with a role; the response carries their first key's secret, shown once."""
    with unit_of_work(request) as session:
        member, issued = service.add_member(session, actor=actor, data=data)
        return {"member": MemberOut.model_validate(member).model_dump(mode="json"),
                "api_key": ApiKeyOut.model_validate(issued.key).model_copy(update={"secret": issued.secret})
                .model_dump(mode="json")}


@router.patch("/members/{member_id}", response_model=MemberOut)
def update_member(request: Request, actor: ActorDep, member_id: IdPath, data: MemberPatch):
    """Rename a member or change their role or email; a workspace keeps at least one owner."""
    with unit_of_work(request) as session:
        return service.update_member(session, actor=actor, member_id=member_id, data=data)


@router.delete("/members/{member_id}", response_model=MemberOut)
def remove_member(request: Request, actor: ActorDep, member_id: IdPath):
    """Remove a member: they can no longer sign in and their keys are revoked; their past work stays theirs."""
    with unit_of_work(request) as session:
        return service.remove_member(session, actor=actor, member_id=member_id)


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_keys(request: Request, actor: ActorDep):
    """Keys of the workspace (no secrets)."""
    with read_only(request) as session:
        return service.list_keys(session, actor=actor)


@router.post("/members/{member_id}/api-keys", response_model=ApiKeyOut, status_code=201)
def issue_key(request: Request, actor: ActorDep, member_id: IdPath, name: str = Query("api key", max_length=200)):
    """Issue another key for a member; the secret is in this response only."""
    with unit_of_work(request) as session:
        issued = service.issue_key(session, actor=actor, member_id=member_id, name=name)
        return ApiKeyOut.model_validate(issued.key).model_copy(update={"secret": issued.secret})


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_key(request: Request, actor: ActorDep, key_id: IdPath):
    """Revoke a key."""
    with unit_of_work(request) as session:
        return service.revoke_key(session, actor=actor, key_id=key_id)


@router.delete("/members/{member_id}/console-sessions")
def revoke_console_sessions(request: Request, actor: ActorDep, member_id: IdPath) -> dict:
    """Sign a member out of the console everywhere: every live console session of theirs ends at once."""
    with unit_of_work(request) as session:
        return {"member_id": member_id,
                "revoked": service.revoke_console_sessions(session, actor=actor, member_id=member_id)}


@router.get("/audit-log", response_model=Page[AuditEntryOut])
def audit_log(request: Request, actor: ActorDep, entity_type: str | None = None, entity_id: Id | None = None,
              cursor: str | None = None, limit: int = Query(50, ge=1, le=500)):
    """Who changed what, newest first."""
    with read_only(request) as session:
        rows = service.list_audit(session, actor=actor, entity_type=entity_type, entity_id=entity_id,
                                  after_id=decode_cursor(cursor), limit=limit + 1)
        return page_of([AuditEntryOut.model_validate(r) for r in rows], ids=[r.id for r in rows], limit=limit)
