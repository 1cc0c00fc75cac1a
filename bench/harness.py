"""Shared pieces of the HTTP benchmarks: a `yutang serve` process on its own data directory, a workspace and a
source, the generator's events as Segment messages, percentiles, and a bench PostgreSQL database.

Nothing here is product code; the benchmarks talk to the product only through its CLI, HTTP API and modules.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "yutang_bench"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank of sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# ---------------------------------------------------------------------------------------------------- postgres

def pg_url(database: str = BENCH_DB) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def recreate_database(name: str = BENCH_DB) -> None:
    """Drop and create the bench database (never the test suite's)."""
    import psycopg

    assert name != "test", "the test suite owns database 'test'"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str = BENCH_DB) -> None:
    import psycopg

    assert name != "test"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------- server

class Server:
    """`yutang serve` in its own process on its own data directory (embedded SQLite + DuckDB by default)."""

    def __init__(self, data_dir: Path, *, database_url: str | None = None, warehouse_url: str | None = None,
                 port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "YUTANG_DATA_DIR": str(self.data_dir), "YUTANG_SECRET_KEY": "bench-secret"}
        for name, value in (("YUTANG_DATABASE_URL", database_url), ("YUTANG_WAREHOUSE_URL", warehouse_url)):
            if value:
                self.env[name] = value
            else:
                self.env.pop(name, None)
        self.process: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "yutang.cli.main", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        return done.stdout

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "yutang.cli.main", "serve", "--port", str(self.port), "--no-access-log"],
            env=self.env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 600) -> float:
        """SIGTERM (a graceful stop drains the journal into the warehouse); returns the seconds it took."""
        started = time.perf_counter()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.perf_counter() - started

    def setup_source(self, slug: str = "bench") -> tuple[int, str, str]:
        """Create a workspace (CLI) and a source (API): (workspace id, owner key, write key)."""
        owner_key = self.cli("workspace", "create", slug, "--name", "Bench brand").strip().splitlines()[-1]
        owner = {"Authorization": f"Bearer {owner_key}"}
        workspace_id = httpx.get(f"{self.url}/v1/workspace", headers=owner).json()["id"]
        response = httpx.post(f"{self.url}/v1/sources", headers=owner, json={"name": "bench app"})
        response.raise_for_status()
        return workspace_id, owner_key, response.json()["write_key"]


def basic(write_key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
            "Content-Type": "application/json"}


# ---------------------------------------------------------------------------------------------------- messages

def _quoted(values: list) -> list[str]:
    return [json.dumps(v, ensure_ascii=False) if v is not None else "" for v in values]


def segment_messages(table: pa.Table) -> list[str]:
    """The generator's event rows as Segment track / page / identify messages (JSON text, one per row).

    properties is already JSON text, so the messages are assembled as text rather than re-encoded.
    """
    kinds = table["type"].to_pylist()
    names = _quoted(table["event"].to_pylist())
    message_ids = table["message_id"].to_pylist()
    users = _quoted(table["user_id"].to_pylist())
    anonymous = table["anonymous_id"].to_pylist()
    properties = table["properties"].to_pylist()
    stamps = pc.strftime(table["ts"], format="%Y-%m-%dT%H:%M:%SZ").to_pylist()  # %S carries the microseconds
    out = []
    for kind, name, message_id, user, anon, props, ts in zip(kinds, names, message_ids, users, anonymous,
                                                             properties, stamps, strict=True):
        head = f'{{"type":"{kind}","messageId":"{message_id}","anonymousId":"{anon}",'
        if user:
            head += f'"userId":{user},'
        if kind == "track":
            body = f'"event":{name},"properties":{props}'
        elif kind == "page":
            body = f'"name":{json.dumps(json.loads(props)["name"], ensure_ascii=False)},"properties":{props}'
        else:
            body = f'"traits":{props}'
        out.append(f'{head}{body},"timestamp":"{ts}"}}')
    return out


def batch_body(messages: list[str]) -> bytes:
    return ('{"batch":[' + ",".join(messages) + "]}").encode()


def print_json(result: dict) -> int:
    """Print a benchmark's figures as JSON on stdout; the exit status of a finished run."""
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def timed(runs: int, call) -> tuple[dict, object]:
    """p50, min and max seconds of `runs` calls after one untimed warm-up, and the warm-up's answer."""
    seconds, first = [], call()
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return {"p50": round(statistics.median(seconds), 3), "min": round(min(seconds), 3),
            "max": round(max(seconds), 3)}, first


def fresh_warehouse(data: Path, *, customers: int, events: int, postgres: bool, database: str, file: str):
    """The generator's brand under `data` (generated once) and an empty warehouse to load it into: a DuckDB file
    under `data`, or the PostgreSQL database `database` (re)created."""
    from bench.generate import generate
    from yutang.warehouse.backends import open_warehouse

    if not (data / "customers.parquet").exists():
        generate(str(data), customers=customers, events=events, seed=42)
    if postgres:
        recreate_database(database)
        return open_warehouse(pg_url(database))
    path = data / file
    path.unlink(missing_ok=True)
    return open_warehouse(f"duckdb:///{path.resolve()}")
