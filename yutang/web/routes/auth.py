"""Signing in (an API key in the form, or a one-time sign-in link), signing out, and the language switch."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from yutang.kit.errors import Unauthorized
from yutang.web.deps import (
    HOME,
    ConsoleRoute,
    end_session,
    locale_of,
    render,
    safe_next,
    session_token,
    start_session,
)
from yutang.web.i18n import LOCALE_COOKIE, LOCALES
from yutang.workspaces import service as workspaces_service

router = APIRouter(route_class=ConsoleRoute)


@router.get("")
def console_home() -> RedirectResponse:
    """The console opens on the overview (数据概览)."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = ""):
    """The sign-in form (an API key is typed in, never carried in a URL)."""
    return render(request, "login.html", locale=locale_of(request), next=next, failed=False)


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
    """Check the key and start a console session."""
    try:
        with request.app.state.database.unit_of_work() as session:
            issued = workspaces_service.sign_in_with_key(session, secret=key.strip())
    except Unauthorized:
        return render(request, "login.html", locale=locale_of(request), status=400, next=next, failed=True)
    return _signed_in(request, token=issued.token, next=next)


@router.get("/sign-in/{token}")
def sign_in_link_page(request: Request, token: str, next: str = ""):
    """A one-time sign-in link (`yutang workspace sign-in-link`, the demo prints one) asks for a click: a chat app's
    link preview that fetches the address must not use the link up."""
    try:
        with request.app.state.database.read_only() as session:
            member, workspace = workspaces_service.sign_in_link_holder(session, token=token)
    except Unauthorized:
        return _link_refused(request, next)
    response = render(request, "sign_in_link.html", locale=locale_of(request), member=member, workspace=workspace,
                      token=token, next=next)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token must not travel on
    return response


@router.post("/sign-in/{token}")
def sign_in_with_link(request: Request, token: str, next: Annotated[str, Form()] = ""):
    """Use the one-time link and start a console session."""
    try:
        with request.app.state.database.unit_of_work() as session:
            issued = workspaces_service.sign_in_with_link(session, token=token)
    except Unauthorized:
        return _link_refused(request, next)
    return _signed_in(request, token=issued.token, next=next)


def _link_refused(request: Request, next: str):
    response = render(request, "login.html", locale=locale_of(request), status=400, next=next, failed=False,
                      link_failed=True)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _signed_in(request: Request, *, token: str, next: str) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token must not travel on
    start_session(request, response, token=token)
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    """End the session on the server and drop its cookie."""
    if token := session_token(request):
        with request.app.state.database.unit_of_work() as session:
            workspaces_service.sign_out(session, token=token)
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
