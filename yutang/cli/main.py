"""`yutang` commands: serve, demo, migrate, workspace create, import customers / orders, warehouse load-events,
loyalty nightly, lifecycle compute."""

import json
import sys
import time
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
import typer
import uvicorn

from yutang.app import create_app
from yutang.archive import importing as customer_import
from yutang.demo import seed as demo_seed
from yutang.demo import sinks as demo_sinks
from yutang.kit.clock import utcnow
from yutang.kit.errors import DomainError, NotFound
from yutang.kit.settings import create_settings
from yutang.lifecycle import tasks as lifecycle_tasks
from yutang.loyalty import tasks as loyalty_tasks
from yutang.orders import importing as order_import
from yutang.runtime.database import Database, open_database
from yutang.runtime.pipeline import open_pipeline
from yutang.warehouse import bulk
from yutang.warehouse.backends import WarehouseLocked, open_warehouse
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import system_actor
from yutang.workspaces.schemas import WorkspaceIn

app = typer.Typer(help="Yutang: a brand's private-domain customer operations.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (one per brand).", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports into a workspace.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
warehouse_app = typer.Typer(help="The analytics warehouse.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(warehouse_app, name="warehouse")
loyalty_app = typer.Typer(help="Loyalty: points, coupons and tiers.", no_args_is_help=True)
app.add_typer(loyalty_app, name="loyalty")
lifecycle_app = typer.Typer(help="Lifecycle stages, RFM and customer value.", no_args_is_help=True)
app.add_typer(lifecycle_app, name="lifecycle")

SIGN_IN_PATH = "/console/sign-in/"
HostOpt = Annotated[str, typer.Option(help="interface to listen on")]
PortOpt = Annotated[int, typer.Option(help="port to listen on")]


def _database() -> Database:
    database = open_database(create_settings())
    database.migrate()
    return database


def _fail(exc: DomainError) -> None:
    typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
    for error in exc.errors:
        typer.secho(f"  {error.field}: {error.message}", err=True)
    raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic head)."""
    settings = create_settings()
    open_database(settings).migrate()
    typer.echo(f"database at head: {settings.resolved_database_url}")


AccessLogOpt = Annotated[bool, typer.Option("--access-log/--no-access-log", help="log every request")]


@app.command()
def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000, access_log: AccessLogOpt = True) -> None:
    """Migrate, then serve the API and console."""
    database = _database()
    uvicorn.run(create_app(database.settings, database=database), host=host, port=port, log_level="info",
                access_log=access_log)


@app.command()
def demo(host: HostOpt = "127.0.0.1", port: PortOpt = 8000,
         visitors: Annotated[int, typer.Option(help="shoppers walking through the store funnel (first run)")] = 60_000,
         showcase: Annotated[int, typer.Option(help="customers seeded through the services (first run)")] = 200,
         serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="serve after seeding")] = True,
         open_browser: Annotated[bool, typer.Option("--open/--no-open", help="open the console")] = True) -> None:
    """Seed the demo brand (embedded SQLite by default) and serve the API and console."""
    database = _database()
    pipeline = open_pipeline(database)
    started = time.monotonic()
    # The messaging channels send to sinks this process runs for as long as it serves.
    with demo_sinks.running() as sinks:
        result = demo_seed.seed_brand(database, pipeline, sinks=sinks, showcase=showcase, visitors=visitors)
        with database.unit_of_work() as session:
            link = workspaces_service.mint_sign_in_link(session, actor=system_actor(result.workspace_id),
                                                        member_id=result.owner_id)
        url = f"http://{host}:{port}{SIGN_IN_PATH}{link.token}"
        funnel = ", ".join(f"{count} {step}" for step, count in result.funnel.items())
        typer.echo(f"demo workspace '{result.slug}': {result.customers} customers "
                   f"({time.monotonic() - started:.1f}s){'; funnel: ' + funnel if funnel else ''}")
        typer.echo("seeding: " + ", ".join(f"{part} {seconds:.1f}s" for part, seconds in result.timings.items()))
        typer.echo(f"sinks: SMS and webhooks at {sinks.http_url}, SMTP at 127.0.0.1:{sinks.smtp_port}")
        typer.echo(f"API key (owner): {result.key}")
        typer.echo(f"console (one-time sign-in link, valid {_minutes(link.expires_at)} min): {url}")
        typer.echo(f"API docs: http://{host}:{port}/docs")
        if not serve_after:
            pipeline.relay.catch_up()
            pipeline.stop()
            return
        if open_browser and sys.stdout.isatty():
            webbrowser.open(url)
        uvicorn.run(create_app(database.settings, database=database, pipeline=pipeline), host=host, port=port,
                    log_level="info")


@workspace_app.command("create")
def workspace_create(slug: str, name: Annotated[str, typer.Option(help="brand name")],
                     timezone: Annotated[str, typer.Option(help="IANA time zone")] = "Asia/Shanghai",
                     locale: Annotated[str, typer.Option(help="zh_CN or en")] = "zh_CN") -> None:
    """Create a workspace and print its owner's API key (shown once)."""
    database = _database()
    try:
        data = WorkspaceIn(slug=slug, name=name, timezone=timezone, locale=locale)
        with database.unit_of_work() as session:
            workspace, issued = workspaces_service.create_workspace(session, data=data)
    except DomainError as exc:
        _fail(exc)
    except ValueError as exc:  # pydantic validation of the arguments
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"workspace {workspace.slug} (id {workspace.id}) created")
    typer.echo(issued.secret)


@workspace_app.command("sign-in-link")
def workspace_sign_in_link(
        slug: str,
        member: Annotated[int | None, typer.Option(help="member id (default: the workspace's first owner)")] = None,
        base_url: Annotated[str, typer.Option(help="where the console is served")] = "http://127.0.0.1:8000",
) -> None:
    """Print a one-time console sign-in link for a member (single use, expires in minutes)."""
    database = _database()
    try:
        with database.unit_of_work() as session:
            workspace = workspaces_service.find_workspace(session, slug=slug)
            actor = system_actor(workspace.id, timezone=workspace.timezone)
            if member is None:
                member = next((m.id for m in workspaces_service.list_members(session, actor=actor)
                               if m.role == "owner" and m.active), None)
            if member is None:
                raise NotFound(f"workspace {slug!r} has no active owner", field="member")
            link = workspaces_service.mint_sign_in_link(session, actor=actor, member_id=member)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"{base_url.rstrip('/')}{SIGN_IN_PATH}{link.token}")
    typer.echo(f"single use, expires in {_minutes(link.expires_at)} min", err=True)


def _minutes(until: datetime) -> int:
    return round((until - utcnow()).total_seconds() / 60)


def _run_import(workspace: str, runner) -> None:
    database = _database()
    try:
        with database.unit_of_work() as session:
            ws = workspaces_service.find_workspace(session, slug=workspace)
            report = runner(session, system_actor(ws.id, timezone=ws.timezone))
    except DomainError as exc:
        _fail(exc)
    typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))
    if report.errors:
        raise typer.Exit(1)


WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="workspace slug")]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


@import_app.command("customers")
def import_customers(file: FileArg, workspace: WorkspaceOpt) -> None:
    """Import customers from CSV (docs/imports.md); exit 1 if any row was rejected."""
    data = file.read_bytes()
    _run_import(workspace, lambda session, actor: customer_import.import_customers_csv(session, actor=actor, data=data))


@import_app.command("orders")
def import_orders(file: FileArg, workspace: WorkspaceOpt,
                  channel: Annotated[str, typer.Option(help="channel code the orders came through")],
                  format: Annotated[str, typer.Option(help="csv, tmall, jd or douyin")] = "csv") -> None:
    """Import orders from CSV or a Tmall / JD / Douyin order export; exit 1 if any record was rejected."""
    data = file.read_bytes()
    _run_import(workspace, lambda session, actor: order_import.import_orders(
        session, actor=actor, data=data, format=format, channel=channel))


PARQUET_BATCH_ROWS = 1_000_000  # the generator writes 1M-row row groups; DuckDB inserts big batches best


@warehouse_app.command("load-events")
def load_events(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True,
                                                            help="Parquet files of event rows")],
                workspace_id: Annotated[int | None, typer.Option(
                    help="set every row's workspace (else the files' workspace_id column)")] = None,
                transaction_rows: Annotated[int, typer.Option(help="rows per transaction")] = (
                    bulk.DEFAULT_TRANSACTION_ROWS)) -> None:
    """Bulk-load event history from Parquet (the warehouse events table's columns) straight into the warehouse.

    No customer resolution and no replay check: rows land as they are; loading a file twice stores it twice.
    On the embedded DuckDB warehouse run it while the server is stopped (the server owns the file).
    """
    settings = create_settings()
    if workspace_id is not None:
        database = _database()
        try:
            with database.unit_of_work() as session:
                workspaces_service.get_workspace(session, workspace_id=workspace_id)
        except DomainError as exc:
            _fail(exc)
    try:  # every file's columns are checked before anything is written
        for file in files:
            bulk.conform(pq.read_schema(file).empty_table(), workspace_id=workspace_id)
    except bulk.BulkLoadError as exc:
        typer.secho(f"error: {file}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    try:
        warehouse = open_warehouse(settings.resolved_warehouse_url)
    except WarehouseLocked as exc:
        typer.secho(f"error: {exc}\nThe server owns the embedded warehouse: stop the server or load through it "
                    "(POST /v1/batch).", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc

    def batches():
        for file in files:
            for batch in pq.ParquetFile(file).iter_batches(batch_size=PARQUET_BATCH_ROWS):
                yield pa.Table.from_batches([batch])

    try:
        report = bulk.load_events(warehouse, batches(), workspace_id=workspace_id, transaction_rows=transaction_rows)
    except bulk.BulkLoadError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    finally:
        warehouse.close()
    typer.echo(json.dumps({**report, "files": len(files)}, ensure_ascii=False, indent=2))


@lifecycle_app.command("compute")
def lifecycle_compute(workspace: WorkspaceOpt, as_of: Annotated[
        datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"],
                                      help="count orders and events up to the end of this local day (YYYY-MM-DD)")
        ] = None) -> None:
    """Refresh stages, RFM and value for a workspace now (the server also does it nightly at 03:00), or as of the
    end of an earlier day.

    It writes the warehouse: on the embedded DuckDB warehouse run it while the server is stopped, or call
    POST /v1/lifecycle/compute on the running server.
    """
    database = _database()
    try:
        with database.unit_of_work() as session:
            ws = workspaces_service.find_workspace(session, slug=workspace)
            actor = system_actor(ws.id, timezone=ws.timezone)
    except DomainError as exc:
        _fail(exc)
    try:
        pipeline = open_pipeline(database)
    except WarehouseLocked as exc:
        typer.secho(f"error: {exc}\nThe server owns the embedded warehouse: stop the server or call "
                    "POST /v1/lifecycle/compute on it.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    try:
        pipeline.catch_up()  # score every change committed so far
        report = lifecycle_tasks.compute(database.factory, pipeline.warehouse, actor=actor,
                                         as_of=as_of.date() if as_of else None)
    except DomainError as exc:
        _fail(exc)
    finally:
        pipeline.stop()
    typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()


@loyalty_app.command("nightly")
def loyalty_nightly() -> None:
    """Expire points lots and coupons past their date and review tiers at period end (run nightly, e.g. cron)."""
    database = _database()
    typer.echo(json.dumps(loyalty_tasks.nightly(database.factory)))
