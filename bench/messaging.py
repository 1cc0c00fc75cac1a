"""Messaging throughput: rendering + enqueueing messages, sending them to a null channel, and SMTP to a sink.

    python -m bench.messaging --customers 100000 --smtp 2000 [--database-url postgresql+psycopg://…/yutang_bench]

On a fresh data directory (embedded SQLite by default) it creates a workspace, seeds --customers customers with a
phone identity (bulk rows, not timed), then measures:
- enqueue: messaging.service.enqueue_bulk renders a template with personalisation (name, city, coupon_code from
  a registered provider) in the sandbox and writes the messages plus their outbox rows, --chunk customers per
  transaction (target >= 10,000 messages/s);
- dispatch_null: the sender job (Dispatcher.run_until_idle) claims, "sends" through the null adapter and records
  every attempt;
- smtp: --smtp customers with an email identity, enqueued to an email channel pointing at an aiosmtpd server on
  loopback, then sent by the sender job over one reused SMTP connection.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from bench import harness
from yutang.customers.models import Customer, CustomerIdentity
from yutang.kit.clock import utcnow
from yutang.kit.settings import Settings
from yutang.messaging import service, templating
from yutang.messaging.dispatch import Dispatcher
from yutang.messaging.models import ChannelConfig
from yutang.messaging.schemas import ChannelConfigIn, TemplateIn
from yutang.runtime.database import open_database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import WorkspaceIn

TARGET_ENQUEUE_PER_SECOND = 10_000
BODY = "{{ name }}，{{ city }}门店新品到了，凭券 {{ coupon_code }} 享 8 折。退订回 T"


def seed(database, actor: Actor, *, count: int, kind: str, start: int) -> list[int]:
    """Customers with one identity each, as bulk rows (setup, not measured)."""
    now = utcnow()
    ids: list[int] = []
    with database.unit_of_work() as session:
        for offset in range(0, count, 10_000):
            batch = range(start + offset, start + min(offset + 10_000, count))
            rows = [{"workspace_id": actor.workspace_id, "status": "active", "name": f"顾客{n}", "city": "杭州",
                     "attributes": {}, "first_seen_at": now, "refuses_personalised": False, "created_at": now}
                    for n in batch]
            made = list(session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                                        rows))
            values = [f"+86139{n:08d}" if kind == "phone" else f"c{n}@example.com" for n in batch]
            session.execute(insert(CustomerIdentity), [
                {"workspace_id": actor.workspace_id, "customer_id": cid, "kind": kind, "namespace": "",
                 "value": value, "lookup": f"bench:{value}", "created_at": now}
                for cid, value in zip(made, values, strict=True)])
            ids.extend(made)
    return ids


def coupons(session, workspace_id, customer_ids):
    """A stand-in for loyalty's provider: a coupon code per customer."""
    return {cid: {"coupon_code": f"NEW-{cid:07d}"} for cid in customer_ids}


def enqueue(database, actor: Actor, *, config_id: int, template_id: int, ids: list[int],
            chunk: int) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(ids), chunk):
        with database.unit_of_work() as session:
            config = session.get(ChannelConfig, config_id)
            template = service.get_template(session, actor=actor, template_id=template_id)
            service.enqueue_bulk(session, actor=actor, config=config, template=template,
                                 customer_ids=ids[offset:offset + chunk])
    return time.perf_counter() - started, time.process_time() - cpu


def figures(count: int, seconds: float, cpu: float) -> dict:
    """Wall-clock rate, and the rate per CPU second of this process (the machine may be shared)."""
    return {"messages": count, "seconds": round(seconds, 3), "per_second": round(count / seconds),
            "cpu_seconds": round(cpu, 3), "per_cpu_second": round(count / cpu)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--smtp", type=int, default=2_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="yutang-bench-messaging-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url, secret_key="bench")
    database = open_database(settings)
    database.migrate()
    templating.register_provider(coupons)
    result: dict = {"customers": args.customers, "store": database.engine.dialect.name,
                    "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    try:
        with database.unit_of_work() as session:
            workspace, issued = workspaces_service.create_workspace(
                session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
            actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
            null = service.create_channel(session, actor=actor, data=ChannelConfigIn(kind="null", name="null"))
            sms_like = service.create_template(session, actor=actor, data=TemplateIn(
                name="launch", channel_kind="null", purpose="marketing", body=BODY))
            null_id, template_id = null.id, sms_like.id
        ids = seed(database, actor, count=args.customers, kind="phone", start=0)

        seconds, cpu = enqueue(database, actor, config_id=null_id, template_id=template_id, ids=ids,
                               chunk=args.chunk)
        result["enqueue"] = figures(len(ids), seconds, cpu) | {"target_per_second": TARGET_ENQUEUE_PER_SECOND}
        dispatcher = Dispatcher(database.factory, batch_size=1000)
        started, cpu = time.perf_counter(), time.process_time()
        sent = dispatcher.run_until_idle()
        result["dispatch_null"] = figures(sent, time.perf_counter() - started, time.process_time() - cpu)

        if args.smtp:
            from tests.peers.smtp import Sink, smtp_server  # the test peer: a real aiosmtpd server on loopback

            with smtp_server(Sink()) as (sink, port):
                with database.unit_of_work() as session:
                    mail = service.create_channel(session, actor=actor, data=ChannelConfigIn(
                        kind="email", name="mail", settings={"host": "127.0.0.1", "port": port,
                                                             "sender": "news@brand.example"}))
                    email_template = service.create_template(session, actor=actor, data=TemplateIn(
                        name="launch mail", channel_kind="email", purpose="marketing", subject="{{ name }}，新品",
                        body=BODY))
                    mail_id, email_template_id = mail.id, email_template.id
                mail_ids = seed(database, actor, count=args.smtp, kind="email", start=args.customers)
                enqueue(database, actor, config_id=mail_id, template_id=email_template_id, ids=mail_ids,
                        chunk=args.chunk)
                started, cpu = time.perf_counter(), time.process_time()
                sent = dispatcher.run_until_idle()
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                dispatcher.stop()
                # The sink runs in this process too, so its CPU is in cpu_seconds.
                result["smtp"] = figures(sent, seconds, cpu) | {"received_by_sink": len(sink.messages)}
    finally:
        database.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    return harness.print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
