"""Workspaces with their owner's key, and members of other roles."""

import secrets
from dataclasses import dataclass

from yutang.runtime.database import Database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import MemberIn, WorkspaceIn


@dataclass
class Tenant:
    """A fresh workspace with its owner's key and a system actor for direct service calls."""

    id: int
    slug: str
    key: str
    actor: Actor

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}"}


def make_tenant(database: Database, name: str = "Test brand") -> Tenant:
    """A new workspace and its owner."""
    slug = "t-" + secrets.token_hex(5)
    with database.unit_of_work() as session:
        workspace, issued = workspaces_service.create_workspace(session, data=WorkspaceIn(slug=slug, name=name))
        actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER,
                      api_key_id=issued.key.id, timezone=workspace.timezone)
    return Tenant(id=workspace.id, slug=slug, key=issued.secret, actor=actor)


def bearer(key: str) -> dict:
    """Headers authenticating with an API key."""
    return {"Authorization": f"Bearer {key}"}


def add_member(api, role: str, name: str | None = None) -> tuple[int, dict]:
    """A member of the role added through the API: their id and headers carrying their key."""
    body = api.post("/v1/members", json={"name": name or role, "role": role}).json()
    return body["member"]["id"], bearer(body["api_key"]["secret"])


def add_member_key(database: Database, tenant: Tenant, role: str, name: str | None = None) -> tuple[int, str]:
    """A member of the role added through the service: their id and API key."""
    with database.unit_of_work() as session:
        member, issued = workspaces_service.add_member(session, actor=tenant.actor,
                                                       data=MemberIn(name=name or role, role=role))
        return member.id, issued.secret
