"""The web console: server-rendered pages (Jinja2 + HTMX) under /console, static assets under /static."""

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeTimedSerializer

from yutang.kit.settings import Settings
from yutang.web.deps import HOME, Web
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
                        signer=URLSafeTimedSerializer(settings.secret_key, salt="yutang.console.session"),
                        default_locale=settings.default_locale)
    if assets.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=assets), name="vendor")
    app.mount("/static/app", StaticFiles(directory=STATIC), name="app-static")
    app.include_router(console_router())

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(HOME, status_code=303)
