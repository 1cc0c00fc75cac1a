"""The tags page: tag groups and tags with how many customers carry each; create, rename and delete them."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.kit.errors import Conflict, DomainError, Forbidden, NotFound
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagGroupIn, TagGroupPatch, TagIn, TagPatch
from yutang.web.deps import ConsoleRoute, Page, console, form_errors
from yutang.web.i18n import N_

router = APIRouter(route_class=ConsoleRoute)

NAME_TAKEN = N_("This name is taken: pick another.")
NAME_TOO_LONG = N_("At most 100 characters.")
NAMES_REPEAT = N_("A tag name is given twice.")


def _page(page: Page, *, q: str = "", status: int = 200, failed: str = "", errors: dict | None = None,
          form: dict | None = None):
    groups = tags_service.list_groups(page.session, actor=page.actor, q=q.strip() or None)
    return page.render("tags/list.html", status=status, groups=groups, q=q, failed=failed, errors=errors or {},
                       form=form or {})


def _errors(page: Page, exc: ValidationError | DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    # Names are the only thing typed here: say what is wrong with one in the operator's language.
    errors = form_errors(exc, page.gettext, fields=fields)
    if isinstance(exc, Conflict):
        errors = {"name": page.gettext(NAME_TAKEN)}
    elif isinstance(exc, DomainError) and "tags" in errors:
        errors = {"tags": page.gettext(NAMES_REPEAT)}
    elif isinstance(exc, ValidationError):
        errors = {field: (page.gettext(NAME_TOO_LONG) if "at most" in message else message)
                  for field, message in errors.items()}
    return errors


def _attempt(request: Request, failed: str, form: dict, fields: tuple[str, ...], change):
    with console(request) as page:
        try:
            with page.session.begin_nested():
                change(page)
        except (Forbidden, NotFound):
            raise  # an error page, not a form to correct
        except (ValidationError, DomainError) as exc:
            return _page(page, status=422, failed=failed, errors=_errors(page, exc, fields), form=form)
    return RedirectResponse("/console/tags", status_code=303)


@router.get("/tags")
def tag_list(request: Request, q: str = ""):
    """Tag groups and their tags with customer counts; q filters by name."""
    with console(request) as page:
        return _page(page, q=q)


@router.post("/tags/groups")
def group_create(request: Request, name: Annotated[str, Form()] = "", tags: Annotated[str, Form()] = ""):
    """A new group, with the tags typed one per line or separated by commas."""
    names = [t.strip() for t in tags.replace("，", ",").replace("、", ",").replace("\n", ",").split(",") if t.strip()]
    return _attempt(request, "group-new", {"name": name, "tags": tags}, ("name", "tags"), lambda page: (
        tags_service.create_group(page.session, actor=page.actor, data=TagGroupIn(name=name.strip(), tags=names))))


@router.post("/tags/groups/{group_id}")
def group_rename(request: Request, group_id: int, name: Annotated[str, Form()] = ""):
    """Rename a group."""
    return _attempt(request, f"group-{group_id}", {"name": name}, ("name",), lambda page: (
        tags_service.rename_group(page.session, actor=page.actor, group_id=group_id,
                                  data=TagGroupPatch(name=name.strip()))))


@router.post("/tags/groups/{group_id}/delete")
def group_delete(request: Request, group_id: int):
    """Delete a group and its tags (the page asked for confirmation)."""
    return _attempt(request, f"group-{group_id}", {}, (), lambda page: (
        tags_service.delete_group(page.session, actor=page.actor, group_id=group_id)))


@router.post("/tags")
def tag_create(request: Request, group_id: Annotated[int, Form()], name: Annotated[str, Form()] = ""):
    """A new tag in a group."""
    return _attempt(request, f"tag-new-{group_id}", {"name": name}, ("name",), lambda page: (
        tags_service.create_tag(page.session, actor=page.actor, data=TagIn(group_id=group_id, name=name.strip()))))


@router.post("/tags/{tag_id}")
def tag_rename(request: Request, tag_id: int, name: Annotated[str, Form()] = ""):
    """Rename a tag."""
    return _attempt(request, f"tag-{tag_id}", {"name": name}, ("name",), lambda page: (
        tags_service.rename_tag(page.session, actor=page.actor, tag_id=tag_id, data=TagPatch(name=name.strip()))))


@router.post("/tags/{tag_id}/delete")
def tag_delete(request: Request, tag_id: int):
    """Delete a tag, taking it off every customer (the page asked for confirmation)."""
    return _attempt(request, f"tag-{tag_id}", {}, (), lambda page: (
        tags_service.delete_tag(page.session, actor=page.actor, tag_id=tag_id)))
