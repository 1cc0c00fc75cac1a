"""Console request plumbing: the session cookie (a server-side console session's token), one unit of work per
request as the signed-in Actor, and HTML answers (sign-in redirects, error pages) where the API would answer
problem+json."""

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from babel.support import Translations
from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yutang.kit.errors import DomainError, Invalid, NotFound, Unauthorized
from yutang.runtime.database import Database
from yutang.runtime.pipeline import Pipeline
from yutang.stores import service as stores_service
from yutang.web.errors import domain_message, validation_message
from yutang.web.i18n import N_, chosen_locale, supported
from yutang.web.templating import Templates
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor

SESSION_COOKIE = "yutang_console"
SESSION_MAX_AGE = int(workspaces_service.SESSION_TTL.total_seconds())
HOME = "/console/analytics"  # the overview (数据概览)


@dataclass
class Web:
    """What install() prepared for the console: templates, catalogues, the default language."""

    templates: Templates
    translations: dict[str, Translations]
    default_locale: str


class SignInRequired(Exception):
    """The request carries no valid console session."""


def web_of(request: Request) -> Web:
    """The console state install() put on the app."""
    return request.app.state.web


def is_htmx(request: Request) -> bool:
    """Whether HTMX sent the request for a fragment (a history restore wants the whole page)."""
    return request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in request.headers


def safe_next(target: str | None) -> str:
    """A console path to go to after sign-in; anything else (other hosts included) goes home."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


# ---- the session cookie ---------------------------------------------------------------------------------


def start_session(request: Request, response: Response, *, token: str) -> None:
    """Hand the browser its console session token in an http-only cookie (the server keeps only its digest)."""
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE, path="/console", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


def end_session(response: Response) -> None:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/console")


def session_token(request: Request) -> str | None:
    """The console session token the browser sent, if any (checked against the server's sessions on use)."""
    return request.cookies.get(SESSION_COOKIE) or None


# ---- pages ----------------------------------------------------------------------------------------------


def locale_of(request: Request, workspace_locale: str | None = None) -> str:
    """The switch's choice, else the workspace's language, else the configured default."""
    return supported(chosen_locale(request) or workspace_locale, fallback=web_of(request).default_locale)


def render(request: Request, name: str, *, locale: str, status: int = 200, **context) -> HTMLResponse:
    """Render a console template."""
    return web_of(request).templates.render(request, name, locale=locale, status=status, **context)


@dataclass
class Page:
    """What a page handler works with: the unit of work, the signed-in Actor, the language."""

    request: Request
    session: Session
    actor: Actor
    workspace_name: str
    locale: str

    def gettext(self, message: str) -> str:
        """Translate a message into the page's language."""
        return web_of(self.request).translations[self.locale].gettext(message)

    def render(self, name: str, *, status: int = 200, **context) -> HTMLResponse:
        """Render a template with the page, its Actor and the workspace's time zone in context."""
        response = render(self.request, name, locale=self.locale, status=status, page=self,
                          tz=self.actor.timezone, **context)
        # Pages carry personal data and differ by HTMX fragment and by session: no shared or stored copies.
        response.headers["Vary"] = "HX-Request, Cookie"
        response.headers["Cache-Control"] = "private, no-store"
        return response


def database(request: Request) -> Database:
    """The Database the app was created with."""
    return request.app.state.database


def pipeline(request: Request) -> Pipeline:
    """The app's warehouse pipeline as it stands (no catching up)."""
    return request.app.state.pipeline


def caught_up(request: Request) -> Pipeline:
    """The pipeline brought up to every commit and acknowledged event (read-your-writes), before the page's unit
    of work opens (on SQLite a write unit holds the lock the relay needs)."""
    found = pipeline(request)
    if session_token(request):  # signed-out requests go to sign-in without making the pipeline work
        found.catch_up()
    return found


PipelineDep = Annotated[Pipeline, Depends(pipeline)]
CaughtUp = Annotated[Pipeline, Depends(caught_up)]


@contextmanager
def console(request: Request, *, read_only: bool = False) -> Iterator[Page]:
    """One unit of work acting as the signed-in member (read-only when asked: a page that only reads, or one whose
    flow opens units of its own); SignInRequired without a valid session."""
    token = session_token(request)
    if token is None:
        raise SignInRequired
    db = database(request)
    with (db.read_only() if read_only else db.unit_of_work()) as session:
        try:
            actor = stores_service.with_team(session, actor=workspaces_service.console_actor(session, token=token))
        except Unauthorized as exc:  # expired, signed out, revoked or deactivated since sign-in
            raise SignInRequired from exc
        workspace = workspaces_service.get_workspace(session, workspace_id=actor.workspace_id)
        request.state.locale = locale_of(request, workspace.locale)  # error pages speak it too
        yield Page(request=request, session=session, actor=actor, workspace_name=workspace.name,
                   locale=request.state.locale)


def form_errors(exc: ValidationError | DomainError, gettext: Callable[[str], str], *, fields: Collection[str],
                nested: bool = False, patterns: dict[str, str] | None = None,
                domain: dict[str, str] | None = None) -> dict[str, str]:
    """The first message per form field, and under '' what concerns the form as a whole. `nested` keys rows'
    fields by path ("caps.0.limit"); `patterns` words a pattern mismatch per field name, `domain` a domain error
    per field."""
    found: list[tuple[str, str]] = []
    if isinstance(exc, DomainError):
        for error in exc.errors:
            key = error.field.replace("[", ".").replace("]", "")
            own = (domain or {}).get(key) or (domain or {}).get(key.split(".")[0])
            found.append((key, gettext(own) if own else domain_message(error.message, gettext)))
        found = found or [("", domain_message(exc.detail, gettext))]
    else:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
            own = (patterns or {}).get(key.split(".")[-1]) if error["type"] == "string_pattern_mismatch" else None
            found.append((key, gettext(own) if own else validation_message(error, gettext)))
    errors: dict[str, str] = {}
    for key, message in found:
        top = key.split(".")[0]
        errors.setdefault((key if nested else top) if top in fields else "", message)
    return errors


def to_login(request: Request) -> Response:
    """Send a signed-out request to the sign-in page, coming back to where it was afterwards."""
    # Come back to the page the operator was on: a form post's own URL is no page to return to.
    here = urlsplit(request.headers.get("hx-current-url")
                    or (str(request.url) if request.method == "GET" else request.headers.get("referer", HOME)))
    target = "/console/login?" + urlencode({"next": here.path + (f"?{here.query}" if here.query else "")})
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=200, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    end_session(response)
    return response


def error_page(request: Request, exc: DomainError) -> HTMLResponse:
    """A domain error as an HTML page (or a fragment for HTMX), in the operator's language."""
    name = "_error.html" if is_htmx(request) else "error.html"
    locale = getattr(request.state, "locale", None) or locale_of(request)
    return render(request, name, locale=locale, status=exc.status, error=exc)


NO_SUCH_PAGE = N_("There is no console page at this address. Check the link, or start again from the menu.")


def missing_page(request: Request) -> HTMLResponse:
    """The console's 404 page for a path no console route serves."""
    locale = locale_of(request)
    detail = web_of(request).translations[locale].gettext(NO_SUCH_PAGE)
    return render(request, "_error.html" if is_htmx(request) else "error.html", locale=locale, status=404,
                  error=NotFound(detail))


class ConsoleRoute(APIRoute):
    """Console routes answer in HTML: sign-in redirects and error pages instead of problem+json."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return to_login(request)
            except DomainError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                gettext = web_of(request).translations[locale_of(request)].gettext
                return error_page(request, Invalid(" ".join(dict.fromkeys(
                    validation_message(e, gettext) for e in exc.errors()))))

        return guarded
