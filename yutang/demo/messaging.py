"""Demo messaging: SMS, email and webhook channels pointed at the sinks the demo process starts, a template per
channel kind, a past broadcast with its report, messages in several delivery states and inbox threads with
customers' replies and staff answers — through the messaging flows the API uses."""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn
from yutang.demo.merges import Person
from yutang.demo.sinks import SMS_API_KEY, Sinks
from yutang.kit.clock import utcnow
from yutang.messaging import broadcasts, inbox
from yutang.messaging import service as messaging_service
from yutang.messaging.dispatch import Dispatcher
from yutang.messaging.schemas import (
    BroadcastIn,
    ChannelConfigIn,
    ChannelConfigPatch,
    ChannelKind,
    DeliveryIn,
    InboundIn,
    MessageIn,
    Purpose,
    ReplyIn,
    Status,
    TemplateIn,
    TemplatePurpose,
)
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor

SMS, EMAIL, WEBHOOK = "短信（本地演示网关）", "邮件（本地演示 SMTP）", "ERP 订单通知（本地演示接收端）"
WEBHOOK_SECRET = "whsec_" + "ZGVtby10ZWEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA="
CONVERSATIONS = [
    ("请问明前龙井什么时候到货？想买两盒送人。",
     "您好，明前龙井预计本周五到货，到货后第一时间通知您，可以先帮您预留两盒。", "好的，谢谢！"),
    ("上次买的铁观音有点受潮，可以换吗？", "非常抱歉给您带来不便，请拍一下包装照片，我们为您补发一盒。", None),
    ("积分可以抵现吗？", None, None),
    ("我的金卡专享券在哪里看？", "在小程序「我的-优惠券」里就能看到，本月底前有效哦。", "找到了"),
]


def _settings(sinks: Sinks) -> dict[str, dict]:
    return {SMS: {"url": sinks.sms_url, "sign_name": "鱼塘茶事"},
            EMAIL: {"host": "127.0.0.1", "port": sinks.smtp_port, "sender": "service@demo-tea.example"},
            WEBHOOK: {"url": sinks.webhook_url}}


def configure(session: Session, *, actor: Actor, sinks: Sinks) -> dict[str, int]:
    """The three channels, created pointing at the sinks (or, on a later run, re-pointed at this run's ports)."""
    existing = {config.name: config for config in messaging_service.list_channels(session, actor=actor)}
    ids = {}
    for name, settings in _settings(sinks).items():
        if name in existing:
            ids[name] = messaging_service.update_channel(session, actor=actor, config_id=existing[name].id,
                                                         data=ChannelConfigPatch(settings=settings)).id
            continue
        kind, secrets = {SMS: (ChannelKind.SMS, {"api_key": SMS_API_KEY}), EMAIL: (ChannelKind.EMAIL, {}),
                         WEBHOOK: (ChannelKind.WEBHOOK, {"secret": WEBHOOK_SECRET})}[name]
        ids[name] = messaging_service.create_channel(session, actor=actor, data=ChannelConfigIn(
            kind=kind, name=name, settings=settings, secrets=secrets)).id
    return ids


def _templates(session: Session, actor: Actor) -> dict[str, int]:
    templates = [
        TemplateIn(name="春茶上新短信", channel_kind=ChannelKind.SMS,
                   body="【鱼塘茶事】{{ name }}您好，明前春茶已上新，会员专享满300减50，回T退订",
                   payload={"template": "SMS_SPRING_2026", "params": {"name": "{{ name }}"}}),
        TemplateIn(name="发货通知短信", channel_kind=ChannelKind.SMS, purpose=TemplatePurpose.SERVICE,
                   body="【鱼塘茶事】{{ name }}您好，您的订单已发货，请留意查收。",
                   payload={"template": "SMS_SHIPPED", "params": {"name": "{{ name }}"}}),
        TemplateIn(name="会员月报邮件", channel_kind=ChannelKind.EMAIL, purpose=TemplatePurpose.SERVICE,
                   subject="{{ name }}，您本月的会员积分报告", body="{{ name }}您好：\n\n您当前积分 {{ points }}，"
                   "会员等级 {{ tier or '普通会员' }}。春茶季积分可抵现，欢迎到店品鉴。\n\n鱼塘茶事"),
        TemplateIn(name="订单同步 Webhook", channel_kind=ChannelKind.WEBHOOK, purpose=TemplatePurpose.SERVICE,
                   body="{{ name }} 的订单已同步"),
        TemplateIn(name="企业微信欢迎语", channel_kind=ChannelKind.WECOM, body="{{ name }}您好，我是您的专属茶顾问，"
                   "新人加好友即送 20 元无门槛券~"),
        TemplateIn(name="快捷回复：到货时间", channel_kind=ChannelKind.EMAIL, purpose=TemplatePurpose.QUICK_REPLY,
                   subject="到货通知", body="{{ name }}您好，新茶到货后我们会第一时间通知您。"),
    ]
    return {data.name: messaging_service.create_template(session, actor=actor, data=data).id for data in templates}


def seed(factory: sessionmaker[Session], pipeline, *, actor: Actor, sinks: Sinks, segment_ids: dict[str, int],
         people: list[Person], rng: random.Random) -> None:
    """Channels, templates, a broadcast sent yesterday morning, direct messages and inbox threads, all sent to the
    sinks by a sender like the server's."""
    zone = ZoneInfo(actor.timezone)
    yesterday = (utcnow().astimezone(zone) - timedelta(days=1)).date()
    sent_at = datetime.combine(yesterday, time(10, 30), tzinfo=zone)
    with unit_of_work(factory) as session:
        for person in people[:2]:  # they answered T to an earlier SMS: the report shows them suppressed
            customers_service.record_consent(session, actor=actor, customer_id=person.customer_id, data=ConsentIn(
                channel="sms", status="withdrawn", method="短信回复 T 退订", occurred_at=sent_at - timedelta(days=5)))
        channels = configure(session, actor=actor, sinks=sinks)
        templates = _templates(session, actor)
        broadcasts.create(session, actor=actor, data=BroadcastIn(
            name="春茶上新 · 高价值复购客户",
            segment_ids=[segment_ids["高价值复购"], segment_ids["春茶品鉴会邀请名单"]],
            channel_id=channels[SMS], template_id=templates["春茶上新短信"], priority=10, send_at=sent_at))
        broadcasts.create(session, actor=actor, data=BroadcastIn(
            name="沉睡客户唤醒 · 包邮券提醒", segment_ids=[segment_ids["沉睡唤醒"]], channel_id=channels[SMS],
            template_id=templates["春茶上新短信"], send_at=sent_at + timedelta(days=3)))
    pipeline.catch_up()  # the broadcast plans on the warehouse: consents and segments as committed
    broadcasts.start_due(factory, pipeline.warehouse, now=sent_at)
    with unit_of_work(factory) as session:
        for person in people:
            messaging_service.enqueue(session, actor=actor, data=MessageIn(
                channel_id=channels[EMAIL], customer_id=person.customer_id, template_id=templates["会员月报邮件"],
                purpose=Purpose.SERVICE, idempotency_key=f"demo-report-{person.customer_id}"))
            messaging_service.enqueue(session, actor=actor, data=MessageIn(
                channel_id=channels[WEBHOOK], customer_id=person.customer_id, template_id=templates["订单同步 Webhook"],
                idempotency_key=f"demo-erp-{person.customer_id}"))
        threads = []
        for person, (question, answer, again) in zip(people, CONVERSATIONS, strict=False):
            thread, _ = inbox.receive_api(session, actor=actor, data=InboundIn(
                channel_id=channels[EMAIL], identity_kind="email", identity_value=person.email, body=question,
                external_id=f"demo-in-{person.customer_id}-1"))
            threads.append((thread.id, person, answer, again))
        for thread_id, _, answer, _ in threads:
            if answer:
                inbox.reply(session, actor=actor, thread_id=thread_id, data=ReplyIn(body=answer))
    _send(factory)
    with unit_of_work(factory) as session:
        for _, person, answer, again in threads:
            if answer and again:
                inbox.receive_api(session, actor=actor, data=InboundIn(
                    channel_id=channels[EMAIL], identity_kind="email", identity_value=person.email, body=again,
                    external_id=f"demo-in-{person.customer_id}-2"))
        if threads:
            inbox.resolve(session, actor=actor, thread_id=threads[-1][0])
        # Receipts the providers report later: most delivered, some read and clicked.
        for message in messaging_service.list_messages(session, actor=actor, status=Status.SENT.value, limit=500):
            roll = rng.random()
            state = Status.CLICKED if roll < 0.1 else Status.READ if roll < 0.35 else Status.DELIVERED \
                if roll < 0.9 else None
            if state is not None:
                messaging_service.mark_delivery(session, actor=actor, message_id=message.id,
                                                data=DeliveryIn(status=state))


def _send(factory: sessionmaker[Session]) -> None:
    """Send what is queued now, as the server's sender job would."""
    dispatcher = Dispatcher(factory)
    try:
        dispatcher.run_until_idle()
    finally:
        dispatcher.stop()
