"""Broadcasts: a template to the members of segments on one channel, now or scheduled, under contact pressure.

A broadcast is stored `scheduled` with its `send_at` (now when not given). The broadcaster (`start_due`, run by a
background thread of the server) claims every due broadcast of a workspace together, plans them in one warehouse
query (`planning.plan`: competing campaigns are decided highest priority first, overlapping segments reach a
customer once) and queues the sends as messages in bulk for the sender job; customers the rules hold back are
stored as `suppressed` messages with the reason (so they become `Message Suppressed` events). Every decision is
kept as a recipient row: sent (with its message) or suppressed and why.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.clock import as_utc, utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import planning, pressure, service
from yutang.messaging.models import Broadcast, BroadcastRecipient, ChannelConfig, Message, PressurePolicy
from yutang.messaging.schemas import BroadcastIn, PressureIn, PressureOut
from yutang.segments import service as segments_service
from yutang.storage import dialect
from yutang.storage.engine import unit_of_work
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, system_actor

log = logging.getLogger(__name__)
SCHEDULED, SENDING, SENT, CANCELLED, FAILED = "scheduled", "sending", "sent", "cancelled", "failed"
# A started broadcast says what happened: all sent now, some or all waiting for the quiet hours to end, or none
# sent at all (everyone suppressed, or nobody in the audience).
PARTLY_DEFERRED, DEFERRED, NONE_SENT = "partly_deferred", "deferred", "none_sent"
SUPPRESSED = "suppressed"  # a recipient's outcome besides sent and deferred
CANCELLABLE = (SCHEDULED, PARTLY_DEFERRED, DEFERRED)
WITHDRAWN = "broadcast_cancelled"  # the reason given to deferred messages a cancel withdraws
STALE_SENDING = timedelta(minutes=30)  # longer than planning and queueing a million take
# Until a workspace sets its own: at most 2 marketing messages a week, quiet 22:00–08:00, WeCom's 4 a month.
DEFAULT_PRESSURE = PressureIn(caps=[{"name": "marketing_week", "limit": 2, "window_days": 7}], quiet_start="22:00",
                              quiet_end="08:00", wecom_group_sends_per_month=4)


# ---- contact-pressure rules -------------------------------------------------------------------------------


def get_pressure(session: Session, *, actor: Actor) -> PressureOut:
    """The workspace's rules in force."""
    actor.require(Permission.READ)
    policy = session.scalar(select(PressurePolicy).where(PressurePolicy.workspace_id == actor.workspace_id))
    data = DEFAULT_PRESSURE if policy is None else PressureIn(
        caps=policy.caps, quiet_start=policy.quiet_start, quiet_end=policy.quiet_end,
        wecom_group_sends_per_month=policy.wecom_group_sends_per_month, holdout_bp=policy.holdout_bp)
    return PressureOut(**data.model_dump(), timezone=actor.timezone)


def set_pressure(session: Session, *, actor: Actor, data: PressureIn,
                 experiments: Callable[[], list[str]] = list) -> PressureOut:
    """Replace the workspace's rules (owner). `experiments` names the experiments running (the journeys domain,
    above this one, tells): the holdout's share does not change under them, or their results would mix two pools."""
    actor.require(Permission.ADMIN)
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise Invalid("quiet hours need both a start and an end", field="quiet_end")
    names = [cap.name for cap in data.caps]
    if len(set(names)) != len(names):
        raise Invalid("cap names are unique", field="caps")
    policy = session.scalar(select(PressurePolicy).where(PressurePolicy.workspace_id == actor.workspace_id))
    if data.holdout_bp != (policy.holdout_bp if policy is not None else 0):
        running = experiments()
        if running:
            raise Conflict(f"the global holdout is locked while experiments run ({', '.join(running)})",
                           field="holdout_bp")
    if policy is None:
        policy = PressurePolicy(workspace_id=actor.workspace_id)
        session.add(policy)
    policy.caps = [cap.model_dump(mode="json") for cap in data.caps]
    policy.quiet_start, policy.quiet_end = data.quiet_start, data.quiet_end
    policy.wecom_group_sends_per_month = data.wecom_group_sends_per_month
    policy.holdout_bp = data.holdout_bp
    policy.updated_at = utcnow()
    session.flush()
    workspaces_service.record(session, actor=actor, action="messaging.pressure_set", entity_type="pressure_policy",
                              entity_id=policy.id, changes=data.model_dump(mode="json"))
    return get_pressure(session, actor=actor)


def rules_of(data: PressureOut) -> pressure.Rules:
    """The rule core's view of the stored rules."""
    def clock(text: str | None) -> time | None:
        return time.fromisoformat(text) if text else None

    return pressure.Rules(
        caps=tuple(pressure.Cap(name=c.name, limit=c.limit, window=timedelta(days=c.window_days),
                                channel=c.channel_kind.value if c.channel_kind else None) for c in data.caps),
        quiet_start=clock(data.quiet_start), quiet_end=clock(data.quiet_end), timezone=data.timezone,
        wecom_group_sends_per_month=data.wecom_group_sends_per_month, holdout_bp=data.holdout_bp)


# ---- broadcasts -------------------------------------------------------------------------------------------


def _check(session: Session, actor: Actor, data: BroadcastIn) -> tuple[ChannelConfig, Any]:
    for index, segment_id in enumerate(data.segment_ids):
        segments_service.get(session, actor=actor, segment_id=segment_id, field=f"segment_ids[{index}]")
    config = service.get_channel(session, actor=actor, config_id=data.channel_id, field="channel_id")
    if not config.enabled:
        raise Conflict("this messaging channel is disabled", field="channel_id")
    template = service.get_template(session, actor=actor, template_id=data.template_id)
    if template.channel_kind != config.kind:
        raise Invalid(f"the template is for {template.channel_kind}, the channel is {config.kind}",
                      field="template_id")
    if template.purpose == "quick_reply":
        raise Invalid("a quick reply is not broadcast", field="template_id")
    return config, template


def create(session: Session, *, actor: Actor, data: BroadcastIn) -> Broadcast:
    """Schedule a broadcast (send_at absent: now)."""
    actor.require(Permission.BULK)
    _check(session, actor, data)
    now = utcnow()
    send_at = now if data.send_at is None else as_utc(data.send_at, assume_zone=actor.timezone)
    broadcast = Broadcast(workspace_id=actor.workspace_id, name=data.name, segment_ids=list(dict.fromkeys(
        data.segment_ids)), channel_config_id=data.channel_id, template_id=data.template_id,
        member_id=actor.member_id, priority=data.priority, status=SCHEDULED, send_at=send_at, summary={})
    session.add(broadcast)
    session.flush()
    workspaces_service.record(session, actor=actor, action="broadcast.created", entity_type="broadcast",
                              entity_id=broadcast.id, changes={"segment_ids": broadcast.segment_ids,
                                                               "send_at": send_at.isoformat(),
                                                               "priority": data.priority})
    return broadcast


def get(session: Session, *, actor: Actor, broadcast_id: int) -> Broadcast:
    """A broadcast of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Broadcast, broadcast_id, workspace_id=actor.workspace_id, what="broadcast",
                            field="broadcast_id")


def list_broadcasts(session: Session, *, actor: Actor, status: str | None = None, before_id: int | None = None,
                    limit: int = 50) -> list[Broadcast]:
    """Broadcasts, newest first."""
    actor.require(Permission.READ)
    query = select(Broadcast).where(Broadcast.workspace_id == actor.workspace_id)
    if status:
        query = query.where(Broadcast.status == status)
    if before_id is not None:
        query = query.where(Broadcast.id < before_id)
    return list(session.scalars(query.order_by(Broadcast.id.desc()).limit(limit)))


def cancel(session: Session, *, actor: Actor, broadcast_id: int) -> Broadcast:
    """Cancel a broadcast that has not started, or withdraw the messages it deferred past the quiet hours."""
    actor.require(Permission.BULK)
    broadcast = get(session, actor=actor, broadcast_id=broadcast_id)
    if broadcast.status not in CANCELLABLE:
        raise Conflict(f"a {broadcast.status} broadcast cannot be cancelled", field="broadcast_id")
    withdrawn = 0
    if broadcast.status != SCHEDULED:
        waiting = select(BroadcastRecipient.message_id).where(BroadcastRecipient.broadcast_id == broadcast.id,
                                                              BroadcastRecipient.outcome == DEFERRED)
        withdrawn = len(service.withdraw_queued(session, actor=actor, message_ids=list(session.scalars(waiting)),
                                                reason=WITHDRAWN))
        # By the messages' new state, not an id list: a large audience would overflow SQLite's bound parameters.
        session.execute(update(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == broadcast.id, BroadcastRecipient.outcome == DEFERRED,
            select(Message.id).where(Message.id == BroadcastRecipient.message_id,
                                     Message.error_code == WITHDRAWN).exists())
            .values(outcome=SUPPRESSED, reason=WITHDRAWN))
        summary = dict(broadcast.summary)
        summary["deferred"] = summary.get("deferred", 0) - withdrawn
        summary["suppressed"] = summary.get("suppressed", 0) + withdrawn
        summary["by_reason"] = {**summary.get("by_reason", {}), WITHDRAWN: withdrawn}
        if not summary["deferred"]:
            summary.pop("deferred_until", None)
        broadcast.summary = summary
    broadcast.status, broadcast.cancelled_at = CANCELLED, utcnow()
    workspaces_service.record(session, actor=actor, action="broadcast.cancelled", entity_type="broadcast",
                              entity_id=broadcast.id, changes={"withdrawn": withdrawn})
    return broadcast


def status_of(summary: dict) -> str:
    """A started broadcast's status from what its plan did."""
    if summary.get("deferred"):
        return PARTLY_DEFERRED if summary.get("sent") else DEFERRED
    return SENT if summary.get("sent") else NONE_SENT


def _outcome(status: str, deferred: bool) -> str:
    if status != "queued":
        return SUPPRESSED
    return DEFERRED if deferred else SENT


def delivery_states(session: Session, *, broadcast_id: int) -> dict[str, int]:
    """The broadcast's messages per delivery state."""
    return dict(session.execute(
        select(Message.status, func.count()).join(BroadcastRecipient, BroadcastRecipient.message_id == Message.id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id).group_by(Message.status)).all())


def recipients(session: Session, *, actor: Actor, broadcast_id: int, outcome: str | None = None,
               reason: str | None = None, after_id: int | None = None,
               limit: int = 100) -> list[tuple[BroadcastRecipient, str | None]]:
    """Per customer sent / suppressed and why, with the message's state, by recipient id."""
    get(session, actor=actor, broadcast_id=broadcast_id)
    query = (select(BroadcastRecipient, Message.status).outerjoin(Message, Message.id == BroadcastRecipient.message_id)
             .where(BroadcastRecipient.broadcast_id == broadcast_id))
    if outcome:
        query = query.where(BroadcastRecipient.outcome == outcome)
    if reason:
        query = query.where(BroadcastRecipient.reason == reason)
    if after_id is not None:
        query = query.where(BroadcastRecipient.id > after_id)
    return [(r, s) for r, s in session.execute(query.order_by(BroadcastRecipient.id).limit(limit)).all()]


# ---- planning and sending ---------------------------------------------------------------------------------


def campaign_of(session: Session, *, broadcast_id: int, segment_ids: list[int], channel_kind: str, priority: int,
                purpose: str) -> planning.Campaign:
    """What planning needs of a broadcast: dynamic segment ids, and static lists read from the OLTP store."""
    kinds = segments_service.kinds(session, segment_ids=segment_ids)
    static = segments_service.static_lists(session, segment_ids=[sid for sid in segment_ids
                                                                 if kinds.get(sid) == segments_service.STATIC])
    return planning.Campaign(id=broadcast_id, channel_kind=channel_kind, priority=priority, purpose=purpose,
                             dynamic_segments=tuple(sid for sid in dict.fromkeys(segment_ids)
                                                    if kinds.get(sid) == segments_service.DYNAMIC),
                             static_members=static)


def channel_kinds(session: Session, *, workspace_id: int) -> dict[int, str]:
    """Channel configuration id → kind, for reading sends back from events."""
    return dict(session.execute(select(ChannelConfig.id, ChannelConfig.kind)
                                .where(ChannelConfig.workspace_id == workspace_id)).all())


def _purpose(template) -> str:
    return "marketing" if template.purpose == "marketing" else "service"


def preview(session: Session, warehouse, *, actor: Actor, data: BroadcastIn,
            now: datetime | None = None) -> dict[str, Any]:
    """Plan a broadcast without sending: audience before and after suppression, by reason."""
    actor.require(Permission.READ)
    config, template = _check(session, actor, data)
    now = now or (utcnow() if data.send_at is None else as_utc(data.send_at, assume_zone=actor.timezone))
    campaign = campaign_of(session, broadcast_id=0, segment_ids=data.segment_ids, channel_kind=config.kind,
                           priority=data.priority, purpose=_purpose(template))
    rules = rules_of(get_pressure(session, actor=actor))
    plans = planning.plan(warehouse, workspace_id=actor.workspace_id, campaigns=[campaign], rules=rules,
                          channel_kinds=channel_kinds(session, workspace_id=actor.workspace_id), now=now)
    return plans[0].counts() | {"sample_customer_id": plans[0].first_recipient()}


def claim_due(session: Session, *, now: datetime) -> dict[int, list[int]]:
    """Take due scheduled broadcasts (any workspace) for sending, and those a dead process left `sending` (their
    send is one transaction, so nothing of theirs was queued); their ids by workspace."""
    query = dialect.of(session).claim(select(Broadcast).where(
        ((Broadcast.status == SCHEDULED) & (Broadcast.send_at <= now))
        | ((Broadcast.status == SENDING) & (Broadcast.started_at < now - STALE_SENDING))).order_by(Broadcast.id))
    claimed: dict[int, list[int]] = defaultdict(list)
    for broadcast in session.scalars(query):
        broadcast.status, broadcast.started_at = SENDING, now
        claimed[broadcast.workspace_id].append(broadcast.id)
    return dict(claimed)


def send(session: Session, warehouse, *, workspace_id: int, broadcast_ids: list[int],
         now: datetime) -> dict[int, dict]:
    """Plan claimed broadcasts of one workspace together and queue their messages; returns each summary."""
    timezone = segments_service.workspace_timezone(session, workspace_id=workspace_id)
    actor = system_actor(workspace_id, timezone=timezone)
    broadcasts = [session.get(Broadcast, bid) for bid in broadcast_ids]
    configs = {b.id: session.get(ChannelConfig, b.channel_config_id) for b in broadcasts}
    templates = {b.id: service.get_template(session, actor=actor, template_id=b.template_id) for b in broadcasts}
    campaigns = [campaign_of(session, broadcast_id=b.id, segment_ids=b.segment_ids, channel_kind=configs[b.id].kind,
                             priority=b.priority, purpose=_purpose(templates[b.id])) for b in broadcasts]
    rules = rules_of(get_pressure(session, actor=actor))
    plans = planning.plan(warehouse, workspace_id=workspace_id, campaigns=campaigns, rules=rules,
                          channel_kinds=channel_kinds(session, workspace_id=workspace_id), now=now)
    summaries: dict[int, dict] = {}
    for broadcast in broadcasts:
        plan = plans[broadcast.id]
        customer_ids = plan.customer_ids()
        deferrals = plan.deferrals()
        outcomes = service.queue_many(session, actor=actor, config=configs[broadcast.id],
                                      template=templates[broadcast.id], customer_ids=customer_ids,
                                      reasons=plan.reasons(), defer=deferrals,
                                      broadcast_id=broadcast.id) if customer_ids else {}
        rows = [{"workspace_id": workspace_id, "broadcast_id": broadcast.id, "customer_id": cid,
                 "outcome": _outcome(status, cid in deferrals), "reason": "quiet_hours" if status == "queued"
                 and cid in deferrals else reason, "message_id": mid, "created_at": now}
                for cid, (mid, status, reason) in outcomes.items()]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(BroadcastRecipient.__table__), rows[start:start + 10_000])
        by_reason: dict[str, int] = defaultdict(int)
        for row in rows:
            if row["outcome"] == SUPPRESSED:
                by_reason[row["reason"]] += 1
        counted = {outcome: sum(1 for r in rows if r["outcome"] == outcome) for outcome in (SENT, DEFERRED, SUPPRESSED)}
        summary = {"candidates": plan.candidates, "duplicates": plan.duplicates, "audience": len(rows),
                   **counted, "by_reason": dict(by_reason)}
        if counted[DEFERRED]:
            summary["deferred_until"] = min(deferrals[r["customer_id"]] for r in rows
                                            if r["outcome"] == DEFERRED).isoformat()
        broadcast.summary, broadcast.finished_at = summary, utcnow()
        broadcast.status = status_of(summary)
        workspaces_service.record(session, actor=actor, action="broadcast.sent", entity_type="broadcast",
                                  entity_id=broadcast.id, changes={k: v for k, v in summary.items()
                                                                   if k != "by_reason"})
        summaries[broadcast.id] = summary
    return summaries


def start_due(factory: sessionmaker[Session], warehouse, *, now: datetime | None = None) -> dict[int, dict]:
    """Claim due broadcasts and send them, one workspace at a time (a failure marks that workspace's failed)."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        claimed = claim_due(session, now=now)
    done: dict[int, dict] = {}
    for workspace_id, ids in claimed.items():
        try:
            with unit_of_work(factory) as session:
                done.update(send(session, warehouse, workspace_id=workspace_id, broadcast_ids=ids, now=now))
        except Exception as exc:  # the others go on; the failed ones say why
            log.exception("broadcasts %s failed", ids)
            with unit_of_work(factory) as session:
                for broadcast_id in ids:
                    broadcast = session.get(Broadcast, broadcast_id)
                    broadcast.status, broadcast.error, broadcast.finished_at = FAILED, repr(exc)[:500], utcnow()
    return done
