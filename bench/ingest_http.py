"""HTTP ingest throughput: events/s acknowledged by /v1/batch (500 events a request) and requests/s on /v1/track.

    python -m bench.ingest_http --customers 1000000 --events 20000000 --send 1000000

Starts `yutang serve` on a fresh data directory (embedded SQLite + DuckDB, or --postgres for PostgreSQL as both
stores in the bench database), creates a workspace (CLI) and a source (API), and sends the generator's first
--send events as Segment track / page / identify messages from --clients processes, each on one keep-alive httpx
connection. The acknowledgement rate is what the issue's target is about: a 200 means the messages are validated
and fsync'd in the journal. The loader turns them into warehouse rows in the background (creating a customer in
the OLTP store for every unknown userId); the script then stops the server gracefully, which drains the journal,
and reports how long the events took to become queryable, and checks every acknowledged event is stored once.

Single-event requests: --single-seconds of /v1/track from --clients processes x --threads threads, before the
batches (so the loader is idle at that point).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pyarrow.compute as pc

from bench import harness
from bench.generate import iter_event_batches

BODIES: list[bytes] = []  # filled before the client processes fork
SINGLES: list[bytes] = []


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post_batches(url: str, headers: dict, worker: int, workers: int, start, results) -> None:
    sent = errors = 0
    latencies = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        client.get("/healthz")  # open the connection before the clock starts
        start.wait()
        for body in BODIES[worker::workers]:
            began = time.perf_counter()
            response = client.post("/v1/batch", content=body)
            latencies.append(time.perf_counter() - began)
            if response.status_code == 200:
                sent += response.json()["accepted"]
            else:
                errors += 1
    results.put((sent, errors, latencies, time.perf_counter()))


def _post_singles(url: str, headers: dict, worker: int, workers: int, threads: int, seconds: float, start,
                  results) -> None:
    counts = [0] * threads
    errors = [0] * threads
    mine = SINGLES[worker::workers]

    def run(thread: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            client.get("/healthz")
            barrier.wait()
            deadline = time.perf_counter() + seconds
            for body in mine[thread::threads]:
                if time.perf_counter() >= deadline:
                    break
                if client.post("/v1/track", content=body).status_code == 200:
                    counts[thread] += 1
                else:
                    errors[thread] += 1

    barrier = threading.Barrier(threads + 1)
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    barrier.wait()
    for thread in pool:
        thread.join()
    results.put((sum(counts), sum(errors)))


def _run_processes(target, args_for, workers: int) -> list:
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=target, args=(*args_for(i), start, results)) for i in range(workers)]
    for process in processes:
        process.start()
    time.sleep(1.0)  # let every client connect
    began = time.perf_counter()
    start.set()
    out = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return [began, *out]


def _prepare(args) -> tuple[int, int]:
    """Request bodies for the batches and for the single-event phase (track events after the batched ones)."""
    needed_singles = int(args.single_rate_cap * args.single_seconds)
    batch_events = 0
    for table in iter_event_batches(args.customers, args.events, args.seed, args.batch,
                                    workspace_id=args.workspace_id):
        if batch_events < args.send:
            BODIES.append(harness.batch_body(harness.segment_messages(table)))
            batch_events += table.num_rows
            continue
        tracks = table.filter(pc.equal(table["type"], "track"))
        SINGLES.extend(message.encode() for message in harness.segment_messages(tracks))
        if len(SINGLES) >= needed_singles:
            break
    return batch_events, len(SINGLES)


def _count_stored(server: harness.Server, workspace_id: int, postgres: bool) -> int:
    sql = "SELECT count(*) FROM {t} WHERE workspace_id = {w} AND source <> 'yutang'"
    if postgres:
        import psycopg

        with psycopg.connect(harness.pg_url().replace("+psycopg", "")) as connection:
            return connection.execute(sql.format(t="warehouse.events", w=workspace_id)).fetchone()[0]
    import duckdb

    with duckdb.connect(str(server.data_dir / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql.format(t="events", w=workspace_id)).fetchone()[0]


def run(args) -> dict:
    prepared = time.perf_counter()
    batch_events, singles = _prepare(args)
    prepare_seconds = time.perf_counter() - prepared

    if args.postgres:
        harness.recreate_database()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="yutang-bench-ingest-"))
    url = harness.pg_url() if args.postgres else None
    server = harness.Server(data_dir, database_url=url, warehouse_url=url)
    server.start()
    try:
        workspace_id, _, write_key = server.setup_source()
        headers = harness.basic(write_key)

        # single-event requests first, while the loader has nothing else to do
        cpu = _cpu_seconds(server.process.pid)
        began, *single_results = _run_processes(
            _post_singles, lambda i: (server.url, headers, i, args.clients, args.threads, args.single_seconds),
            args.clients)
        single_wall = time.perf_counter() - began
        single_ok = sum(r[0] for r in single_results)
        single_errors = sum(r[1] for r in single_results)
        single_cpu = _cpu_seconds(server.process.pid) - cpu
        time.sleep(1.0)

        cpu = _cpu_seconds(server.process.pid)
        began, *batch_results = _run_processes(
            _post_batches, lambda i: (server.url, headers, i, args.clients), args.clients)
        acked_at = max(r[3] for r in batch_results)
        batch_wall = acked_at - began
        batch_cpu = _cpu_seconds(server.process.pid) - cpu
        acked = sum(r[0] for r in batch_results)
        batch_errors = sum(r[1] for r in batch_results)
        latencies = [x for r in batch_results for x in r[2]]
    finally:
        drain = server.stop(timeout=args.drain_timeout)  # SIGKILL after the timeout: nothing acknowledged is lost
    queryable_after = time.perf_counter() - acked_at
    stored = _count_stored(server, workspace_id, args.postgres)
    drained = stored == acked + single_ok
    result = {
        "benchmark": "ingest_http",
        "backend": "postgresql (OLTP + warehouse)" if args.postgres else "sqlite + duckdb (embedded)",
        "machine": {"cores": os.cpu_count()},
        "batch": {
            "events_per_request": args.batch, "client_processes": args.clients, "requests": len(BODIES),
            "events_acknowledged": acked, "errors": batch_errors, "seconds": round(batch_wall, 2),
            "events_per_second": round(acked / batch_wall),
            "request_ms_p50": round(harness.percentile(latencies, 50) * 1000, 1),
            "request_ms_p99": round(harness.percentile(latencies, 99) * 1000, 1),
            "server_cpu_seconds": round(batch_cpu, 1),
            "target_events_per_second": 20_000,
        },
        "single": {
            "endpoint": "/v1/track", "concurrency": args.clients * args.threads,
            "requests_acknowledged": single_ok, "errors": single_errors, "seconds": round(single_wall, 2),
            "requests_per_second": round(single_ok / single_wall), "server_cpu_seconds": round(single_cpu, 1),
        },
        "loader": {
            "drained": drained, "events_stored": stored, "events_acknowledged": acked + single_ok,
            "graceful_stop_seconds": round(drain, 1), "drain_timeout_seconds": args.drain_timeout,
            # all acknowledged events are queryable this long after the last acknowledgement (when drained)
            "queryable_seconds_after_last_ack": round(queryable_after, 1) if drained else None,
            "events_per_second_from_first_ack": round(stored / (batch_wall + queryable_after)),
            "estimated_drain_seconds_after_last_ack": round(
                (acked + single_ok) / (stored / (batch_wall + queryable_after)) - batch_wall) if stored else None,
        },
        "prepare_seconds": round(prepare_seconds, 1),
        "data_dir": str(data_dir),
        "command": "python -m bench.ingest_http " + " ".join(sys.argv[1:]),
    }
    if args.postgres and not args.keep:
        harness.drop_database()
    if not args.data_dir and not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
        result["data_dir"] = None
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.ingest_http", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000, help="size of the generated stream")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workspace-id", type=int, default=1, help="generator's workspace id (the server assigns its own)")
    p.add_argument("--send", type=int, default=1_000_000, help="events to send in batches (the stream's first)")
    p.add_argument("--batch", type=int, default=500, help="events per /v1/batch request")
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument("--threads", type=int, default=8, help="threads per client process for single events")
    p.add_argument("--single-seconds", type=float, default=10.0)
    p.add_argument("--single-rate-cap", type=float, default=5_000, help="single events prepared per second")
    p.add_argument("--drain-timeout", type=float, default=600.0,
                   help="seconds the graceful stop may spend loading the journal before the server is killed")
    p.add_argument("--postgres", action="store_true", help=f"PostgreSQL OLTP + warehouse in {harness.BENCH_DB}")
    p.add_argument("--keep", action="store_true", help="keep the bench database and data directory afterwards")
    p.add_argument("--data-dir", help="default: a new temporary directory")
    return p


def main(argv: list[str] | None = None) -> int:
    return harness.print_json(run(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
