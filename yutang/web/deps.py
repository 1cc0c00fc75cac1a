"""Console request plumbing: the signed session cookie, one unit of work per request as the signed-in Actor,
and HTML answers (sign-in redirects, error pages) where the API would answer problem+json."""

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from babel.support import Translations
from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yutang.kit.errors import DomainError, Invalid, Unauthorized
from yutang.runtime.database import Database
from yutang.runtime.pipeline import Pipeline
from yutang.web.errors import domain_message, validation_message
from yutang.web.i18n import chosen_locale, supported
from yutang.web.templating import Templates
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor

SESSION_COOKIE = "yutang_console"
SESSION_MAX_AGE = 12 * 3600
HOME = "/console/customers"


@dataclass
class Web:
    """What install() prepared for the console: templates, catalogues, the cookie signer."""

    templates: Templates
    translations: dict[str, Translations]
    signer: URLSafeTimedSerializer
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


def start_session(request: Request, response: Response, *, secret: str) -> None:
    """Keep the workspace key in a signed, http-only cookie; it is re-checked on every request."""
    response.set_cookie(SESSION_COOKIE, web_of(request).signer.dumps(secret), max_age=SESSION_MAX_AGE,
                        path="/console", httponly=True, samesite="lax", secure=request.url.scheme == "https")


def end_session(response: Response) -> None:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/console")


def session_key(request: Request) -> str | None:
    """The workspace key from a valid, unexpired session cookie."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        return web_of(request).signer.loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None


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
    if session_key(request):  # signed-out requests go to sign-in without making the pipeline work
        found.catch_up()
    return found


PipelineDep = Annotated[Pipeline, Depends(pipeline)]
CaughtUp = Annotated[Pipeline, Depends(caught_up)]


@contextmanager
def console(request: Request, *, read_only: bool = False) -> Iterator[Page]:
    """One unit of work acting as the signed-in member (read-only when asked: a page that only reads, or one whose
    flow opens units of its own); SignInRequired without a valid session."""
    secret = session_key(request)
    if secret is None:
        raise SignInRequired
    db = database(request)
    with (db.read_only() if read_only else db.unit_of_work()) as session:
        try:
            actor = workspaces_service.authenticate(session, secret=secret)
        except Unauthorized as exc:  # revoked or deactivated since sign-in
            raise SignInRequired from exc
        workspace = workspaces_service.get_workspace(session, workspace_id=actor.workspace_id)
        request.state.locale = locale_of(request, workspace.locale)  # error pages speak it too
        yield Page(request=request, session=session, actor=actor, workspace_name=workspace.name,
                   locale=request.state.locale)


def form_errors(exc: ValidationError | DomainError, gettext: Callable[[str], str], *,
                fields: Collection[str]) -> dict[str, str]:
    """The first message per form field, and under '' what concerns the form as a whole."""
    if isinstance(exc, DomainError):
        found = ([(e.field.split(".")[0].split("[")[0], domain_message(e.message, gettext)) for e in exc.errors]
                 or [("", domain_message(exc.detail, gettext))])
    else:
        found = [(str(e["loc"][0]) if e["loc"] else "", validation_message(e, gettext)) for e in exc.errors()]
    errors: dict[str, str] = {}
    for field, message in found:
        errors.setdefault(field if field in fields else "", message)
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
                return error_page(request, Invalid("; ".join(str(e["msg"]) for e in exc.errors())))

        return guarded
