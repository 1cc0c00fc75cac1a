"""Event-to-queryable latency: from a /v1/batch acknowledgement to the event being visible in the warehouse.

    python -m bench.latency --customers 1000000 --events 20000000 --rate 2000 --seconds 10

The server runs in this process (uvicorn in a thread on create_app, the embedded SQLite + DuckDB on a fresh data
directory, its loader and relay started by the app's lifespan as in `yutang serve`), so the script can read the
warehouse it owns. A separate process sends the generator's events from --offset on (mid-stream by default) as
Segment messages at a steady --rate, in /v1/batch requests of --batch events, and records when each request was
acknowledged; a thread here polls the warehouse every --poll-ms for the first message of every request and
records when it became visible. Latency = visible - acknowledged (both on the machine's monotonic clock).

Two phases over the same events:
- new: the server has never seen these people, so the loader creates a customer (OneID upsert in the OLTP
  store) for every new userId and device before it commits the batch;
- returning: the same events again under new message ids once the loader has caught up, so the people are
  known and only identify messages upsert (they carry traits) - the steady state of a pool that exists.

Prints one JSON object with p50 / p90 / p99 / max per phase (target p99 <= 1 s), and the same percentiles for
attribution: how long until a sample that carries a userId is also attributed to its customer (the loader makes
events queryable first and attributes them in a second step; see yutang/events/loader.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import harness

TARGET_P99_SECONDS = 1.0


def _send(url: str, headers: dict, bodies: list[bytes], interval: float, threads: int, results) -> None:
    """Post the bodies on a fixed schedule from a pool of keep-alive connections (a late request goes at once);
    report (index, sent at, acknowledged at) per request."""
    acks: list[tuple[int, float, float]] = []
    errors: list[int] = []
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    started = time.monotonic() + 0.5

    def worker() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            client.get("/healthz")
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                delay = started + index * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sent = time.monotonic()
                response = client.post("/v1/batch", content=bodies[index])
                if response.status_code == 200:
                    acks.append((index, sent, time.monotonic()))
                else:
                    errors.append(index)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((acks, len(errors), time.monotonic() - started))


class Poller(threading.Thread):
    """Polls the warehouse for the sample message ids; records the first time each is visible, and for samples
    from a known user (a userId) the first time it is attributed to a customer."""

    def __init__(self, warehouse, workspace_id: int, ids: list[str], with_user: set[str], every: float):
        super().__init__(name="bench-poller", daemon=True)
        self.warehouse, self.workspace_id, self.every = warehouse, workspace_id, every
        self.pending = set(ids)
        self.unattributed = set(with_user)
        self.seen: dict[str, float] = {}
        self.attributed: dict[str, float] = {}
        self.stop = threading.Event()
        self.queries = 0

    def run(self) -> None:
        while (self.pending or self.unattributed) and not self.stop.is_set():
            rows = self.warehouse.query(
                "SELECT message_id, customer_id IS NOT NULL FROM events WHERE workspace_id = %(w)s "
                "AND message_id IN (SELECT unnest(%(ids)s))",
                {"w": self.workspace_id, "ids": sorted(self.pending | self.unattributed)})
            now = time.monotonic()
            self.queries += 1
            for message_id, has_customer in rows:
                if message_id in self.pending:
                    self.pending.discard(message_id)
                    self.seen[message_id] = now
                if has_customer and message_id in self.unattributed:
                    self.unattributed.discard(message_id)
                    self.attributed[message_id] = now
            self.stop.wait(self.every)


def _phase(name: str, server_url: str, headers: dict, pipeline, workspace_id: int, batches: list[list[str]],
           sample_ids: list[str], args) -> dict:
    bodies = [harness.batch_body(messages) for messages in batches]
    with_user = {sample for sample, batch in zip(sample_ids, batches, strict=True)
                 if json.loads(batch[0]).get("userId")}
    poller = Poller(pipeline.warehouse, workspace_id, sample_ids, with_user, args.poll_ms / 1000)
    context = multiprocessing.get_context("spawn")  # the server's threads are running: do not fork
    results = context.Queue()
    sender = context.Process(target=_send, args=(server_url, headers, bodies, args.batch / args.rate,
                                                                args.threads, results))
    sender.start()
    poller.start()
    acks, errors, send_seconds = results.get()
    sender.join()
    acked_at = {sample_ids[index]: at for index, _, at in acks}
    request_seconds = [at - sent for _, sent, at in acks]
    sent_done = time.monotonic()
    poller.join(timeout=args.wait_seconds)
    poller.stop.set()
    poller.join()
    # visible before its acknowledgement reached the client (the response was still on its way) counts as 0
    latencies = [max(0.0, poller.seen[m] - at) for m, at in acked_at.items() if m in poller.seen]
    unseen = len(acked_at) - len(latencies)
    # an event never seen within the wait counts as the wait: the percentiles are then lower bounds
    waited = time.monotonic() - sent_done
    padded = latencies + [waited + args.seconds] * unseen
    p99 = harness.percentile(padded, 99)
    attribution = [max(0.0, poller.attributed[m] - at) for m, at in acked_at.items() if m in poller.attributed]
    attribution += [waited + args.seconds] * (len(with_user & set(acked_at)) - len(attribution))
    return {
        "phase": name, "events": sum(len(b) for b in batches), "requests": len(bodies), "errors": errors,
        "send_seconds": round(send_seconds, 2), "events_per_second_sent": round(sum(map(len, batches)) / send_seconds),
        "samples": len(acked_at), "samples_visible": len(latencies), "samples_not_visible_in_time": unseen,
        "p50_seconds": round(harness.percentile(padded, 50), 3),
        "p90_seconds": round(harness.percentile(padded, 90), 3),
        "p99_seconds": round(p99, 3), "max_seconds": round(max(padded), 3) if padded else None,
        "meets_target": unseen == 0 and p99 <= TARGET_P99_SECONDS,
        "all_visible_seconds_after_last_send": round(max(0.0, max(poller.seen.values(), default=sent_done)
                                                             - sent_done), 2),
        "samples_with_user_id": len(with_user & set(acked_at)),
        "attributed_p50_seconds": round(harness.percentile(attribution, 50), 3) if attribution else None,
        "attributed_p99_seconds": round(harness.percentile(attribution, 99), 3) if attribution else None,
        "request_ms_p50": round(harness.percentile(request_seconds, 50) * 1000, 1),
        "request_ms_p99": round(harness.percentile(request_seconds, 99) * 1000, 1),
    }


def _serve(app) -> tuple:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread, sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def run(args) -> dict:
    from bench.generate import iter_event_batches
    from yutang.app import create_app
    from yutang.kit.settings import Settings
    from yutang.runtime.database import open_database
    from yutang.runtime.pipeline import open_pipeline
    from yutang.workspaces import service as workspaces_service
    from yutang.workspaces.schemas import WorkspaceIn

    wanted = int(args.rate * args.seconds)
    if args.offset is None:
        args.offset = args.events // 2
    messages: list[str] = []
    for table in iter_event_batches(args.customers, args.events, args.seed, 50_000, start=args.offset):
        messages.extend(harness.segment_messages(table))
        if len(messages) >= wanted:
            break
    messages = messages[:wanted]
    batches = [messages[i:i + args.batch] for i in range(0, len(messages), args.batch)]

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="yutang-bench-latency-"))
    settings = Settings(data_dir=data_dir, secret_key="bench-secret")
    database = open_database(settings)
    database.migrate()
    pipeline = open_pipeline(database)
    app = create_app(settings, database=database, pipeline=pipeline)
    server, thread, sock, url = _serve(app)
    try:
        with database.unit_of_work() as session:
            workspace, issued = workspaces_service.create_workspace(
                session, data=WorkspaceIn(slug="bench-latency", name="Bench brand"))
            workspace_id = workspace.id
        owner = {"Authorization": f"Bearer {issued.secret}"}
        response = httpx.post(f"{url}/v1/sources", headers=owner, json={"name": "bench app"})
        response.raise_for_status()
        headers = harness.basic(response.json()["write_key"])

        def sample_ids(prefix: str) -> list[str]:
            return [json.loads(batch[0])["messageId"] if not prefix else prefix + json.loads(batch[0])["messageId"]
                    for batch in batches]

        new = _phase("new", url, headers, pipeline, workspace_id, batches, sample_ids(""), args)
        caught_up = time.monotonic()
        pipeline.catch_up()  # every person in these events is known from here on
        catch_up_seconds = time.monotonic() - caught_up
        renamed = [[m.replace('"messageId":"', '"messageId":"r-', 1) for m in batch] for batch in batches]
        returning = _phase("returning", url, headers, pipeline, workspace_id, renamed, sample_ids("r-"), args)
    finally:
        server.should_exit = True
        thread.join(timeout=600)
        sock.close()
        pipeline.stop()
        database.dispose()
        if not args.data_dir and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "benchmark": "latency", "backend": "sqlite + duckdb (embedded), server in-process",
        "machine": {"cores": os.cpu_count()}, "rate_events_per_second": args.rate, "events_per_request": args.batch,
        "seconds": args.seconds, "stream_offset": args.offset, "poll_ms": args.poll_ms,
        "target_p99_seconds": TARGET_P99_SECONDS, "phases": [new, returning],
        "catch_up_after_new_seconds": round(catch_up_seconds, 1),
        "command": "python -m bench.latency " + " ".join(sys.argv[1:]),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--offset", type=int, help="first event of the stream to send (default: the middle)")
    p.add_argument("--rate", type=float, default=2000, help="events per second")
    p.add_argument("--seconds", type=float, default=10, help="length of each phase")
    p.add_argument("--batch", type=int, default=20, help="events per request (the first one is timed)")
    p.add_argument("--threads", type=int, default=16, help="sender connections (requests in flight)")
    p.add_argument("--poll-ms", type=float, default=20)
    p.add_argument("--wait-seconds", type=float, default=300, help="how long to wait for the last samples")
    p.add_argument("--data-dir", help="default: a new temporary directory, removed afterwards")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return p


def main(argv: list[str] | None = None) -> int:
    return harness.print_json(run(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
