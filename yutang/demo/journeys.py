"""Demo journeys: a new-friend welcome SOP (day 0 welcome, day 3 content, day 7 first-purchase nudge with a task
for the guide when nothing was bought) and a win-back journey for sleepers, with customers part-way through both,
and a finished timing experiment with readable results, created and run through the journeys' own flows (the
runner advances them as the server's would)."""

import json
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from yutang.journeys import runner as journeys_runner
from yutang.journeys import service as journeys_service
from yutang.journeys.graph import Definition
from yutang.journeys.schemas import JourneyIn
from yutang.kit.clock import utcnow
from yutang.messaging import service as messaging_service
from yutang.messaging.schemas import ChannelKind, TemplateIn
from yutang.storage.engine import unit_of_work
from yutang.warehouse.schema import EVENTS_ARROW
from yutang.workspaces.access import Actor

WELCOME, WIN_BACK = "新朋友欢迎 SOP", "沉睡客户唤醒"


def _templates(session: Session, actor: Actor) -> dict[str, int]:
    templates = [
        TemplateIn(name="新朋友欢迎短信", channel_kind=ChannelKind.SMS, body="{{ name }}您好，欢迎加入鱼塘茶事会员，"
                   "新人礼券已放入您的账户。", payload={"template": "SMS_WELCOME_01"}),
        TemplateIn(name="第三天：冲泡指南", channel_kind=ChannelKind.SMS, body="{{ name }}，一杯好茶的三个要点："
                   "水温、器具、时间。回复 1 获取完整指南。", payload={"template": "SMS_CONTENT_03"}),
        TemplateIn(name="第七天：首单提醒", channel_kind=ChannelKind.SMS, body="{{ name }}，您的新人礼券还有 3 天到期，"
                   "首单满 99 元可用。", payload={"template": "SMS_NUDGE_07"}),
        TemplateIn(name="唤醒：老客回礼", channel_kind=ChannelKind.SMS, body="{{ name }}，好久不见！春茶已到，"
                   "老客回店赠 50 元无门槛券。", payload={"template": "SMS_WINBACK_01"}),
    ]
    return {data.name: messaging_service.create_template(session, actor=actor, data=data).id for data in templates}


def _welcome(sms: int, t: dict[str, int]) -> dict:
    return {"entry": {"kind": "event", "event": "Owner Changed"}, "reentry": "never",
            "goal": {"event": "Order Paid", "within_days": 14}, "start": "welcome", "steps": {
                "welcome": {"kind": "send", "channel_id": sms, "template_id": t["新朋友欢迎短信"], "next": "day3"},
                "day3": {"kind": "wait", "at": "10:00", "days": 3, "next": "content"},
                "content": {"kind": "send", "channel_id": sms, "template_id": t["第三天：冲泡指南"], "next": "day7"},
                "day7": {"kind": "wait", "at": "10:00", "days": 4, "next": "bought"},
                "bought": {"kind": "branch", "condition": {"kind": "event", "event": "Order Paid"},
                           "yes": "end", "no": "nudge"},
                "nudge": {"kind": "send", "channel_id": sms, "template_id": t["第七天：首单提醒"], "next": "end"},
                "end": {"kind": "exit"}}}


def _win_back(sms: int, t: dict[str, int], segment_id: int) -> dict:
    return {"entry": {"kind": "segment", "segment_id": segment_id}, "reentry": "after", "reentry_days": 90,
            "exit_on": [{"event": "Order Paid"}], "goal": {"event": "Order Paid", "within_days": 14},
            "start": "gift", "steps": {
                "gift": {"kind": "send", "channel_id": sms, "template_id": t["唤醒：老客回礼"], "next": "wait"},
                "wait": {"kind": "wait", "days": 7, "next": "end"}, "end": {"kind": "exit"}}}


def seed(factory: sessionmaker[Session], *, actor: Actor, sms_channel_id: int, sleepers_segment_id: int,
         welcome_ids: list[int], win_back_ids: list[int], in_segment) -> dict[str, int]:
    """Create and publish both journeys and walk the given customers part-way in; the journeys' ids by name."""
    zone = ZoneInfo(actor.timezone)
    with unit_of_work(factory) as session:
        templates = _templates(session, actor)
        ids = {}
        for name, definition in ((WELCOME, _welcome(sms_channel_id, templates)),
                                 (WIN_BACK, _win_back(sms_channel_id, templates, sleepers_segment_id))):
            journey = journeys_service.create(session, actor=actor, data=JourneyIn(
                name=name, definition=Definition.model_validate(definition)))
            journeys_service.move(session, actor=actor, journey_id=journey.id, action="publish", now=utcnow())
            ids[name] = journey.id
    # Entries spread over the last ten days at 10:00 local time (outside the quiet hours); each day the runner
    # advances what fell due by then, so some are at day 3, some at day 7 and some are done.
    today = utcnow().astimezone(zone).date()
    for back in range(10, -1, -1):
        at = datetime.combine(today - timedelta(days=back), time(10, 0), tzinfo=zone)
        with unit_of_work(factory) as session:
            for name, people in ((WELCOME, welcome_ids), (WIN_BACK, win_back_ids)):
                batch = people[back::11]
                if batch:
                    journeys_service.enrol_many(session, actor=actor, journey_id=ids[name], customer_ids=batch,
                                                now=at)
        with unit_of_work(factory) as session:
            while journeys_runner.run_due(session, in_segment=in_segment, now=min(at, utcnow())) == 500:
                pass
    return ids


EXPERIMENT = "试饮预约提醒时机实验"
BOOKED = "Tasting Booked"


def _timing_test() -> dict:
    return {"entry": {"kind": "api"}, "reentry": "never", "start": "split", "steps": {
        "split": {"kind": "experiment", "name": "提醒时机：次日 vs 三天后",
                  "metric": {"event": BOOKED, "within_days": 7},
                  "guardrails": [{"event": "Unsubscribed", "within_days": 7}], "min_per_variant": 50,
                  "horizon_days": 7, "variants": [{"key": "next_day", "next": "soon"},
                                                  {"key": "day3", "next": "later"}]},
        "soon": {"kind": "wait", "days": 1, "next": "end"}, "later": {"kind": "wait", "days": 3, "next": "end"},
        "end": {"kind": "exit"}}}


def experiment(factory: sessionmaker[Session], warehouse, *, actor: Actor, customer_ids: list[int],
               in_segment) -> int:
    """A finished timing experiment: customers entered 25 days ago (so its horizon and window have passed), and
    the tasting bookings that followed (more after the three-day reminder), loaded as the warehouse would have
    received them, for the journeys' listener to record; the journey's id."""
    zone = ZoneInfo(actor.timezone)
    at = datetime.combine(utcnow().astimezone(zone).date() - timedelta(days=25), time(10, 0), tzinfo=zone)
    with unit_of_work(factory) as session:
        journey = journeys_service.create(session, actor=actor, data=JourneyIn(
            name=EXPERIMENT, definition=Definition.model_validate(_timing_test())))
        journeys_service.move(session, actor=actor, journey_id=journey.id, action="publish", now=utcnow())
        journeys_service.enrol_many(session, actor=actor, journey_id=journey.id, customer_ids=customer_ids, now=at)
    for when in (at, at + timedelta(days=4)):
        with unit_of_work(factory) as session:
            while journeys_runner.run_due(session, in_segment=in_segment, now=when) == 500:
                pass
    with unit_of_work(factory) as session:
        variants = journeys_service.exposures(session, journey_id=journey.id)
    rng = random.Random(16)
    rate = {"next_day": 0.10, "day3": 0.16}
    received = utcnow()
    rows = {name: [] for name in EVENTS_ARROW.names}
    for customer_id, variant in variants.items():
        if rng.random() < rate[variant]:
            booked = at + timedelta(days=rng.uniform(1, 6))
            for key, value in (("workspace_id", actor.workspace_id), ("message_id", f"demo:tasting:{customer_id}"),
                               ("type", "track"), ("event", BOOKED), ("customer_id", customer_id), ("user_id", None),
                               ("anonymous_id", None), ("properties", json.dumps({"store": "jingan"})),
                               ("context", "{}"), ("ts", booked), ("received_at", received), ("source", "demo")):
                rows[key].append(value)
    if rows["message_id"]:
        with warehouse.transaction() as tx:
            warehouse.append_arrow(tx, "events", pa.table(rows, schema=EVENTS_ARROW))
    return journey.id
