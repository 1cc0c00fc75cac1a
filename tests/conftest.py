"""Shared fixtures: one migrated database per run (SQLite or PostgreSQL by env), a fresh workspace per test."""

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from tests.helpers.everything import one_of_everything
from tests.helpers.tenants import Tenant, make_tenant
from tests.peers.server import serve
from yutang.app import create_app
from yutang.kit.settings import Settings
from yutang.runtime.database import Database, open_database
from yutang.runtime.pipeline import Pipeline, open_pipeline

# pytest-xdist names each worker (gw0, gw1, …); a run without workers is "main".
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _per_worker(url: str) -> str:
    """The PostgreSQL database this worker owns (created on first use): the suite drops and rebuilds its schemas,
    so workers running side by side each need their own; SQLite and DuckDB files are per worker already."""
    if not url.startswith("postgres") or WORKER == "main":
        return url
    base = make_url(url)
    own = base.set(database=f"{base.database}_{WORKER}")
    with create_engine(base, isolation_level="AUTOCOMMIT").connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": own.database}) is None:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    return own.render_as_string(hide_password=False)


# The suite runs once per store: unset means a SQLite file, or a PostgreSQL URL such as
# postgresql+psycopg://postgres@127.0.0.1:5432/test (the schema is dropped and rebuilt).
TEST_DATABASE_URL = _per_worker(os.environ.get("YUTANG_TEST_DATABASE_URL", ""))
# The warehouse likewise: unset means a DuckDB file, or a PostgreSQL URL (its "warehouse" schema is rebuilt).
TEST_WAREHOUSE_URL = _per_worker(os.environ.get("YUTANG_TEST_WAREHOUSE_URL", ""))


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
    # No nightly slot runs by the wall clock in the shared pipeline: a run spanning 03:00 or 03:30 in Shanghai
    # would refresh every workspace in the middle of other tests. Scheduler tests drive their own Scheduler.
    opened.scheduler.started_at = datetime.max.replace(tzinfo=UTC)
    yield opened
    opened.stop()


@pytest.fixture(scope="session")
def app(settings, database, pipeline):
    return create_app(settings, database=database, pipeline=pipeline)


@pytest.fixture(scope="session")
def client(app) -> TestClient:
    with TestClient(app) as test_client:
        yield test_client


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


@pytest.fixture
def victim(client, tenant) -> dict:
    """The tenant's workspace with one of everything (ids by name), for the tenancy and role sweeps."""
    return one_of_everything(client, tenant)
