"""Shared fixtures: one migrated database per run (SQLite or PostgreSQL by env), a fresh workspace per test."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.peers.server import serve
from yutang.app import create_app
from yutang.kit.settings import Settings
from yutang.runtime.database import Database, open_database
from yutang.runtime.pipeline import Pipeline, open_pipeline
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import WorkspaceIn

# The suite runs once per store: unset means a SQLite file, or a PostgreSQL URL such as
# postgresql+psycopg://postgres@127.0.0.1:5432/test (the schema is dropped and rebuilt).
TEST_DATABASE_URL = os.environ.get("YUTANG_TEST_DATABASE_URL", "")
# The warehouse likewise: unset means a DuckDB file, or a PostgreSQL URL (its "warehouse" schema is rebuilt).
TEST_WAREHOUSE_URL = os.environ.get("YUTANG_TEST_WAREHOUSE_URL", "")


def pytest_report_header(config):
    return (f"yutang OLTP store: {TEST_DATABASE_URL or 'sqlite (temporary file)'}; "
            f"warehouse: {TEST_WAREHOUSE_URL or 'duckdb (temporary file)'}")


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("yutang")
    return Settings(data_dir=data_dir, database_url=TEST_DATABASE_URL or None,
                    warehouse_url=TEST_WAREHOUSE_URL or None, secret_key="test-secret-" + secrets.token_hex(8))


@pytest.fixture(scope="session")
def database(settings) -> Database:
    db = open_database(settings)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def pipeline(settings, database) -> Pipeline:
    if settings.resolved_warehouse_url.startswith("postgres"):
        with create_engine(settings.resolved_warehouse_url.replace("postgresql://", "postgresql+psycopg://", 1)
                           ).begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS warehouse CASCADE"))
    opened = open_pipeline(database)
    yield opened
    opened.stop()


@pytest.fixture(scope="session")
def app(settings, database, pipeline):
    return create_app(settings, database=database, pipeline=pipeline)


@pytest.fixture(scope="session")
def client(app) -> TestClient:
    with TestClient(app) as test_client:
        yield test_client


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
    slug = "t-" + secrets.token_hex(5)
    with database.unit_of_work() as session:
        workspace, issued = workspaces_service.create_workspace(session, data=WorkspaceIn(slug=slug, name=name))
        actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER,
                      api_key_id=issued.key.id, timezone=workspace.timezone)
    return Tenant(id=workspace.id, slug=slug, key=issued.secret, actor=actor)


@pytest.fixture
def tenant(database) -> Tenant:
    return make_tenant(database)


@pytest.fixture
def other_tenant(database) -> Tenant:
    return make_tenant(database, "Other brand")


@pytest.fixture
def api(client, tenant):
    """A client bound to the tenant's owner key."""

    class Bound:
        headers: dict

        def __getattr__(self, method):
            def call(url, **kwargs):
                headers = {**tenant.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(url, headers=headers, **kwargs)

            return call

    bound = Bound()
    bound.headers = tenant.headers
    return bound


@pytest.fixture(scope="session")
def live_server(settings, database, pipeline):
    """The base URL of the app served by uvicorn on a loopback port (same database and pipeline as the tests)."""
    assets = Path(__file__).resolve().parents[1] / "node_modules"
    app = create_app(settings.model_copy(update={"assets_dir": assets}), database=database, pipeline=pipeline)
    with serve(app) as url:
        yield url
