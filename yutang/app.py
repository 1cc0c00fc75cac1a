"""create_app(settings): the one ASGI app serving the API, the console and its static assets."""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from yutang import __version__, web
from yutang.api import docs, openapi, problems
from yutang.api.app import api_router
from yutang.api.routes import messaging as messaging_routes
from yutang.kit.settings import Settings, create_settings
from yutang.runtime.database import Database, open_database
from yutang.runtime.pipeline import Pipeline, open_pipeline
from yutang.runtime.workers import open_workers


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               pipeline: Pipeline | None = None) -> FastAPI:
    """Build the app for the settings (read from the environment when not given)."""
    settings = settings or create_settings()
    database = database or open_database(settings)
    pipeline = pipeline or open_pipeline(database)
    workers = open_workers(database, pipeline)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        workers.start()
        try:
            yield
        finally:
            workers.stop()  # graceful: leaves nothing waiting in the journal, the outbox or the awards queue

    app = FastAPI(title="Yutang", version=__version__, openapi_url="/openapi.json", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Private-domain customer operations: one customer pool, tags, orders and more.")
    app.state.settings = settings
    app.state.database = database
    app.state.pipeline = pipeline
    app.state.workers = workers
    app.state.dispatcher = workers.dispatcher
    app.state.broadcaster = workers.broadcaster
    app.state.journeys = workers.journeys
    problems.install(app)
    openapi.install(app)
    docs.install(app)
    app.include_router(api_router())
    app.include_router(messaging_routes.public)
    web.install(app, settings)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    return app
