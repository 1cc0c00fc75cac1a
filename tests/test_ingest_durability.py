"""An event acknowledged with 2xx survives a SIGKILL of the server, and a retried batch is not counted twice."""

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import duckdb
import httpx
import pytest

BATCH = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`yutang serve` in its own process, on its own data directory (and the suite's PostgreSQL, if any)."""

    def __init__(self, env: dict, port: int):
        self.env, self.port, self.process = env, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "yutang.cli.main", "serve", "--port", str(self.port)],
                                        env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120  # a loaded 2-core machine starts slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.process.kill()  # before reading its stderr, which ends only when the process does
        raise AssertionError(f"server did not start: {self.process.communicate()[1].decode()[-2000:]}")

    def kill(self, sig) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=60)


@pytest.fixture
def server_env(tmp_path, settings, database):
    env = {**os.environ, "YUTANG_DATA_DIR": str(tmp_path), "YUTANG_SECRET_KEY": settings.secret_key}
    for name, value in (("YUTANG_DATABASE_URL", settings.database_url),
                        ("YUTANG_WAREHOUSE_URL", settings.warehouse_url)):
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    return env


def _stored(env, workspace_id) -> list[str]:
    url = env.get("YUTANG_WAREHOUSE_URL")
    sql = "SELECT message_id FROM {table} WHERE workspace_id = {w} AND source <> 'yutang'"
    if url:
        engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        from sqlalchemy import create_engine, text

        with create_engine(engine_url).connect() as connection:
            return [r[0] for r in connection.execute(text(sql.format(table="warehouse.events", w=workspace_id)))]
    with duckdb.connect(os.path.join(env["YUTANG_DATA_DIR"], "warehouse.duckdb"), read_only=True) as connection:
        return [r[0] for r in connection.execute(sql.format(table="events", w=workspace_id)).fetchall()]


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing_acknowledged(server_env):
    slug = "dur-" + uuid.uuid4().hex[:8]
    created = subprocess.run([sys.executable, "-m", "yutang.cli.main", "workspace", "create", slug, "--name", "D"],
                             env=server_env, capture_output=True, text=True, check=True)
    owner_key = created.stdout.strip().splitlines()[-1]
    server = Server(server_env, _free_port())
    server.start()
    owner = {"Authorization": f"Bearer {owner_key}"}
    workspace_id = httpx.get(f"{server.url}/v1/workspace", headers=owner).json()["id"]
    write_key = httpx.post(f"{server.url}/v1/sources", headers=owner, json={"name": "app"}).json()["write_key"]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}

    acknowledged: list[str] = []
    unacknowledged: list[list[dict]] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10) as client:
            while not stop.is_set():
                batch = [{"type": "track", "userId": f"u{n % 7}", "event": "Product Viewed",
                          "messageId": str(uuid.uuid4())} for n in range(BATCH)]
                try:
                    response = client.post("/v1/batch", json={"batch": batch})
                except httpx.TransportError:
                    unacknowledged.append(batch)
                    return
                if response.status_code == 200:
                    acknowledged.extend(m["messageId"] for m in batch)
                else:
                    unacknowledged.append(batch)
                    return

    sender = threading.Thread(target=send)
    sender.start()
    while len(acknowledged) < 30 * BATCH:
        assert sender.is_alive(), "the sender stopped before the kill"
        time.sleep(0.01)
    server.kill(signal.SIGKILL)  # mid-stream: the sender is still posting
    stop.set()
    sender.join(timeout=30)
    assert unacknowledged, "the kill should have cut a request off"

    server.start()
    retried = unacknowledged[0]
    response = httpx.post(f"{server.url}/v1/batch", json={"batch": retried}, headers=auth, timeout=10)
    assert response.status_code == 200  # the client retries what was never acknowledged
    server.kill(signal.SIGTERM)  # a graceful stop drains the journal into the warehouse

    stored = _stored(server_env, workspace_id)
    assert len(stored) == len(set(stored)), "a message was stored twice"
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged messages were lost"
    assert {m["messageId"] for m in retried} <= set(stored)
