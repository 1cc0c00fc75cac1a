"""Every benchmark in one command, at brand scale by default (1M customers / 20M events):

    .venv/bin/python -m bench.run_all

1. the generator writes bench/out (bench/generate.py);
2. bulk load of the 20M events into DuckDB through yutang.warehouse.bulk vs PostgreSQL COPY (bench/bulk_load.py);
3. HTTP ingest: /v1/batch acknowledgements and single /v1/track requests, then the loader (bench/ingest_http.py);
4. event-to-queryable latency at a steady 2,000 events/s (bench/latency.py).

Each step runs in its own process; the combined JSON is printed and written to bench/out/results.json.
PostgreSQL steps use the database yutang_bench on 127.0.0.1:5432 (created and dropped; never `test`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def step(name: str, module: str, *args: str) -> dict:
    started = time.perf_counter()
    print(f"== {name}: python -m {module} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seconds = round(time.perf_counter() - started, 1)
    print(f"   {name} took {seconds} s (exit {done.returncode})", file=sys.stderr, flush=True)
    if done.returncode:
        return {"failed": done.returncode, "seconds": seconds, "output": done.stdout[-2000:]}
    return {**json.loads(done.stdout), "wall_seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    p.add_argument("--send", type=int, default=1_000_000, help="events sent over HTTP in 500-event batches")
    p.add_argument("--drain-timeout", type=float, default=120, help="seconds the loader gets after the batches")
    p.add_argument("--rate", type=float, default=2000, help="latency: events per second")
    p.add_argument("--latency-seconds", type=float, default=10, help="latency: length of each phase")
    args = p.parse_args(argv)
    size = ["--customers", str(args.customers), "--events", str(args.events), "--seed", str(args.seed)]
    started = time.perf_counter()
    results = {
        "machine": {"cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                                               * os.sysconf("SC_PHYS_PAGES") / 2**30)},
        "command": "python -m bench.run_all " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    results["generate"] = step("generate", "bench.generate", *size, "--out", str(args.out))
    results["bulk_load"] = step("bulk load", "bench.bulk_load", *size, "--out", str(args.out))
    results["ingest_http"] = step("HTTP ingest", "bench.ingest_http", *size, "--send", str(args.send),
                                  "--drain-timeout", str(args.drain_timeout))
    results["latency"] = step("latency", "bench.latency", *size, "--rate", str(args.rate),
                              "--seconds", str(args.latency_seconds))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    json.dump(results, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 1 if any("failed" in results[k] for k in ("generate", "bulk_load", "ingest_http", "latency")) else 0


if __name__ == "__main__":
    raise SystemExit(main())
