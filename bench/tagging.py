"""Bulk tagging and the customer list at pool scale: tag N customers by id, untag everyone a search matches, tag
them all again; then a sorted page of the list (by spend) and the whole list as CSV. One unit of work per
step, as the API and the console run them.

    .venv/bin/python -m bench.tagging --customers 5000 [--postgres]

SQLite + DuckDB in a temporary directory, or PostgreSQL for both (a bench database it recreates). Prints one
JSON object; figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import pg_url, print_json, recreate_database

BENCH_DB = "bench_tagging"


def run(customers: int, url: str | None, data_dir: Path) -> dict:
    """Set a pool up and time each step."""
    from yutang.archive import listing
    from yutang.customers import service as customers_service
    from yutang.customers.schemas import IdentityKind
    from yutang.kit.settings import Settings
    from yutang.runtime.database import open_database
    from yutang.runtime.pipeline import open_pipeline
    from yutang.tags import flows as tags_flows
    from yutang.tags import service as tags_service
    from yutang.tags.schemas import BulkTaggingIn, CustomerMatch, TagGroupIn, TagRef
    from yutang.workspaces import service as workspaces_service
    from yutang.workspaces.access import system_actor
    from yutang.workspaces.schemas import WorkspaceIn

    settings = Settings(data_dir=data_dir, database_url=url, warehouse_url=url.replace("+psycopg", "") if url else None,
                        secret_key="bench-secret")
    database = open_database(settings)
    database.migrate()
    pipeline = open_pipeline(database)
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        workspace, _ = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug="bench-" + secrets.token_hex(3), name="bench"))
        actor = system_actor(workspace.id)
        ids = [cid for cid in customers_service.create_many(session, actor=actor, people=[
            ([(IdentityKind.APP_USER_ID, f"bench-{n}")], now) for n in range(customers)]) if cid is not None]
        tags_service.create_group(session, actor=actor, data=TagGroupIn(name="活动", tags=["双12"]))
    pipeline.catch_up()
    tag = TagRef(group="活动", name="双12")
    figures: dict = {"customers": len(ids), "backend": "postgresql" if url else "sqlite+duckdb"}

    def timed(name: str, data: BulkTaggingIn) -> None:
        started = time.perf_counter()
        with database.unit_of_work() as session:
            done = tags_flows.bulk_tag(session, actor=actor, data=data)
        figures[name] = {"seconds": round(time.perf_counter() - started, 3), "added": done.added,
                         "removed": done.removed}

    for start in range(0, len(ids), 10_000):  # the API takes up to 10,000 ids a call
        timed(f"tag_by_id_{start}", BulkTaggingIn(customer_ids=ids[start:start + 10_000], add=[tag]))
    timed("untag_all_matching", BulkTaggingIn(match=CustomerMatch(), remove=[tag]))
    timed("tag_all_matching", BulkTaggingIn(match=CustomerMatch(), add=[tag]))
    started = time.perf_counter()
    pipeline.catch_up()
    figures["relay_seconds"] = round(time.perf_counter() - started, 3)

    search = listing.Search(sort="spend")
    started = time.perf_counter()
    with database.read_only() as session:
        page = listing.list_page(session, actor=actor, warehouse=pipeline.warehouse, search=search, page=3)
    figures["list_page_by_spend_seconds"] = round(time.perf_counter() - started, 3)
    assert page.total == len(ids)
    started = time.perf_counter()
    with database.read_only() as session:
        size = sum(len(chunk) for chunk in listing.export_csv(session, actor=actor, warehouse=pipeline.warehouse,
                                                               search=search))
    figures["export_csv"] = {"seconds": round(time.perf_counter() - started, 3), "bytes": size}
    pipeline.stop()
    database.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    url = None
    if args.postgres:
        recreate_database(BENCH_DB)
        url = pg_url(BENCH_DB)
    with tempfile.TemporaryDirectory() as data_dir:
        return print_json(run(args.customers, url, Path(data_dir)))


if __name__ == "__main__":
    raise SystemExit(main())
