"""The web console: server-rendered pages (Jinja2 + HTMX) under /console, static assets under /static."""

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from yutang.kit.settings import Settings
from yutang.web.deps import HOME, Web, missing_page
from yutang.web.i18n import load_translations
from yutang.web.routes import console_router
from yutang.web.templating import Templates

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# The files every page loads from node_modules; without them the console degrades to plain forms.
REQUIRED_ASSETS = ("htmx.org/dist/htmx.min.js", "@picocss/pico/css/pico.min.css")


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the console's routes and static files on the app."""
    assets = settings.resolved_assets_dir
    missing = [name for name in REQUIRED_ASSETS if not (assets / name).is_file()]
    if missing:
        log.warning("console front-end packages missing under %s (%s): run `npm ci` in the project directory",
                    assets, ", ".join(missing))
    translations = load_translations()
    app.state.web = Web(templates=Templates(translations, assets_ok=not missing), translations=translations,
                        default_locale=settings.default_locale)
    if assets.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=assets), name="vendor")
    app.mount("/static/app", StaticFiles(directory=STATIC), name="app-static")
    app.include_router(console_router())

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(HOME, status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    # Paths under /console that no route serves answer a console page; the API keeps problem+json.
    api_answer = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code in (404, 405) and request.url.path.startswith("/console"):
            return missing_page(request)
        return await api_answer(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
