"""The settings page (owners): event sources and their write keys; members, their roles and API keys."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.events import service as events_service
from yutang.events.schemas import SourceIn, SourceKind, SourcePatch
from yutang.kit.errors import Conflict, DomainError
from yutang.web.deps import ConsoleRoute, Page, console, form_errors, pipeline
from yutang.web.i18n import N_
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Permission, Role
from yutang.workspaces.schemas import MemberIn, MemberPatch

router = APIRouter(route_class=ConsoleRoute)
HERE = "/console/settings"
SOURCE_KINDS = {SourceKind.MINI_PROGRAM: N_("Mini program"), SourceKind.APP: N_("App"),
                SourceKind.WEB: N_("Website"), SourceKind.SERVER: N_("Server")}
# The conflicts these forms meet, in the operator's words (the services speak to API callers).
CONFLICTS = {"name": N_("This name is taken already."), "role": N_("The workspace must keep at least one owner."),
             "member_id": N_("The workspace must keep at least one owner.")}


def _errors(page: Page, exc: ValidationError | DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    errors = form_errors(exc, page.gettext, fields=fields)
    if isinstance(exc, Conflict):
        errors = {field: page.gettext(CONFLICTS.get(field, message)) if field in CONFLICTS else message
                  for field, message in errors.items()}
    return errors


def _settings(page: Page, *, errors: dict[str, dict[str, str]] | None = None, forms: dict | None = None,
              shown: dict | None = None) -> dict:
    keys = workspaces_service.list_keys(page.session, actor=page.actor)
    members = workspaces_service.list_members(page.session, actor=page.actor)
    return {"sources": events_service.list_sources(page.session, actor=page.actor),
            "members": [m for m in members if m.active],
            "keys_of": {m.id: [k for k in keys if k.member_id == m.id and k.revoked_at is None] for m in members},
            "source_kinds": SOURCE_KINDS, "roles": list(Role), "errors": errors or {}, "forms": forms or {},
            "shown": shown}


def _page(page: Page, status: int = 200, **context):
    page.actor.require(Permission.ADMIN)
    return page.render("settings/index.html", status=status, **_settings(page, **context))


@router.get("/settings")
def settings_page(request: Request):
    """Sources with their write keys, members with their roles and keys."""
    with console(request) as page:
        return _page(page)


def _attempt(page: Page, form: str, fields: tuple[str, ...], values: dict, change):
    """Run a change in a savepoint; on refusal render the page with the errors beside the form's fields."""
    page.actor.require(Permission.ADMIN)
    try:
        with page.session.begin_nested():
            return change(), None
    except (ValidationError, DomainError) as exc:
        return None, _page(page, status=422, errors={form: _errors(page, exc, fields)}, forms={form: values})


@router.post("/settings/sources")
def source_create(request: Request, name: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "server"):
    """Add a source; its write key is shown once on the page that follows."""
    with console(request) as page:
        created, refused = _attempt(page, "source-new", ("name", "kind"), {"name": name, "kind": kind},
                                    lambda: events_service.create_source(page.session, actor=page.actor,
                                                                         data=SourceIn(name=name.strip(), kind=kind)))
        if refused:
            return refused
        source, write_key = created
        return _page(page, shown={"what": "write_key", "id": source.id, "name": source.name, "secret": write_key})


@router.post("/settings/sources/{source_id}/name")
def source_rename(request: Request, source_id: int, name: Annotated[str, Form()] = ""):
    """Rename a source."""
    with console(request) as page:
        form = f"source-{source_id}"
        _, refused = _attempt(page, form, ("name",), {"name": name}, lambda: events_service.update_source(
            page.session, actor=page.actor, source_id=source_id, data=SourcePatch(name=name.strip())))
        return refused or RedirectResponse(HERE, status_code=303)


@router.post("/settings/sources/{source_id}/rotate")
def source_rotate(request: Request, source_id: int):
    """A new write key, shown once; the old one stops at once."""
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        source, write_key = events_service.rotate_write_key(page.session, actor=page.actor, source_id=source_id)
        page.session.flush()
        answer = _page(page, shown={"what": "write_key", "id": source.id, "name": source.name, "secret": write_key})
    pipeline(request).ingest.forget_keys()
    return answer


@router.post("/settings/sources/{source_id}/disable")
def source_disable(request: Request, source_id: int):
    """Stop accepting events with a source's write key."""
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        events_service.revoke_source(page.session, actor=page.actor, source_id=source_id)
    pipeline(request).ingest.forget_keys()
    return RedirectResponse(HERE, status_code=303)


@router.post("/settings/members")
def member_create(request: Request, name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                  email: Annotated[str, Form()] = ""):
    """Add a member; their first API key is shown once on the page that follows."""
    with console(request) as page:
        created, refused = _attempt(
            page, "member-new", ("name", "role", "email"), {"name": name, "role": role, "email": email},
            lambda: workspaces_service.add_member(page.session, actor=page.actor, data=MemberIn(
                name=name.strip(), role=role, email=email.strip() or None)))
        if refused:
            return refused
        member, issued = created
        return _page(page, shown={"what": "api_key", "id": member.id, "name": member.name, "secret": issued.secret})


@router.post("/settings/members/{member_id}")
def member_update(request: Request, member_id: int, name: Annotated[str, Form()] = "",
                  role: Annotated[str, Form()] = ""):
    """Rename a member or change their role."""
    with console(request) as page:
        _, refused = _attempt(page, f"member-{member_id}", ("name", "role"), {"name": name, "role": role},
                              lambda: workspaces_service.update_member(
                                  page.session, actor=page.actor, member_id=member_id,
                                  data=MemberPatch(name=name.strip(), role=role)))
        return refused or RedirectResponse(HERE, status_code=303)


@router.post("/settings/members/{member_id}/remove")
def member_remove(request: Request, member_id: int):
    """Remove a member and revoke their keys."""
    with console(request) as page:
        _, refused = _attempt(page, f"member-{member_id}", ("member_id",), {}, lambda: workspaces_service
                              .remove_member(page.session, actor=page.actor, member_id=member_id))
        return refused or RedirectResponse(HERE, status_code=303)


@router.post("/settings/members/{member_id}/keys")
def key_issue(request: Request, member_id: int, name: Annotated[str, Form()] = ""):
    """Issue another API key for a member, shown once."""
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        member = workspaces_service.get_member(page.session, actor=page.actor, member_id=member_id)
        issued = workspaces_service.issue_key(page.session, actor=page.actor, member_id=member_id,
                                              name=name.strip()[:200] or f"{member.name} key")
        return _page(page, shown={"what": "api_key", "id": member.id, "name": member.name, "secret": issued.secret})


@router.post("/settings/keys/{key_id}/revoke")
def key_revoke(request: Request, key_id: int):
    """Revoke an API key; it stops working at once."""
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        workspaces_service.revoke_key(page.session, actor=page.actor, key_id=key_id)
        return RedirectResponse(HERE, status_code=303)
