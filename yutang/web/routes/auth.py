"""Signing in with a workspace API key, signing out, and the language switch."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from yutang.kit.errors import Unauthorized
from yutang.web.deps import HOME, ConsoleRoute, end_session, locale_of, render, safe_next, start_session
from yutang.web.i18n import LOCALE_COOKIE, LOCALES
from yutang.workspaces import service as workspaces_service

router = APIRouter(route_class=ConsoleRoute)


@router.get("")
def console_home() -> RedirectResponse:
    """The console opens on the customer list."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_page(request: Request, key: str = "", next: str = ""):
    """The sign-in form; ?key= signs in at once (the demo prints such a link)."""
    if key:
        return sign_in(request, key=key, next=next)
    return render(request, "login.html", locale=locale_of(request), next=next, failed=False)


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
    """Check the key and start a console session."""
    return sign_in(request, key=key.strip(), next=next)


def sign_in(request: Request, *, key: str, next: str):
    """Start a session for a valid key, or show the form again with an error."""
    try:
        with request.app.state.database.unit_of_work() as session:
            workspaces_service.authenticate(session, secret=key)
    except Unauthorized:
        return render(request, "login.html", locale=locale_of(request), status=400, next=next, failed=True)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, secret=key)
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    """End the session."""
    response = RedirectResponse("/console/login", status_code=303)
    end_session(response)
    return response


@router.get("/language")
def switch_language(request: Request, to: str, next: str = "") -> RedirectResponse:
    """Remember the chosen language and go back to the page the switch was clicked on."""
    if not next and (referer := request.headers.get("referer")):
        parts = urlsplit(referer)
        next = parts.path + (f"?{parts.query}" if parts.query else "")
    response = RedirectResponse(safe_next(next), status_code=303)
    if to in LOCALES:
        response.set_cookie(LOCALE_COOKIE, to, max_age=365 * 24 * 3600, path="/console", httponly=True,
                            samesite="lax")
    return response
