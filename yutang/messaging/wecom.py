"""WeCom customer contact in Yutang's terms: contacts become customers (through the OneID upsert the caller
injects, since merging is an archive operation above this layer), corp tags map to tag groups/tags both ways,
group-send results become deliveries, and the encrypted callback feeds add / edit / delete and inbound text."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
from yutang.customers.service import Customer
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yutang.messaging import inbox, service
from yutang.messaging.adapters.base import ChannelError
from yutang.messaging.adapters.wecom import Contact, WeComClient
from yutang.messaging.adapters.wecom_crypto import WXBizMsgCrypt
from yutang.messaging.models import ChannelConfig, Message, WeComCallbackNonce, WeComContact
from yutang.messaging.schemas import MessageIn, Purpose, Status, TagSyncOut, WeComSyncOut
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagRef
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, Role

# archive.service.upsert_customer: (session, actor=, data=) -> (customer, outcome, merged ids)
Upsert = Callable[..., tuple[Customer, str, list[int]]]
# A domain above (stores) told of each contact added or removed: (session, actor=, config=, change=, customer_id=,
# staff=, external_userid=, state=, welcome_code=, at=) -> whether it sent the welcome message itself.
ContactHook = Callable[..., bool]
# A domain above (groups) told of a change_external_chat event: (session, actor=, config=, fields=, at=) -> what it did.
ChatHook = Callable[..., str]


class ChannelFailed(Conflict):
    """WeCom refused a call; the problem names its errcode."""

    status, code, title = 502, "channel-error", "The channel refused the call"


def _wecom(session: Session, *, actor: Actor, config_id: int) -> ChannelConfig:
    return service.get_channel(session, actor=actor, config_id=config_id)


@contextmanager
def calling(session: Session, *, actor: Actor, config_id: int, field: str) -> Iterator[WeComClient]:
    """The WeCom client of one of the workspace's configurations, closed after; a refusal becomes ChannelFailed
    naming `field`."""
    client = client_for(session, actor=actor, config_id=config_id)
    try:
        yield client
    except ChannelError as exc:
        raise refused(exc, field=field) from exc
    finally:
        client.close()


def refused(exc: ChannelError, *, field: str) -> ChannelFailed:
    """WeCom's refusal as the problem the API answers, naming the input it concerns."""
    return ChannelFailed(f"WeCom answered {exc.code}: {exc.message}", field=field)


def client_for(session: Session, *, actor: Actor, config_id: int, field: str = "config_id") -> WeComClient:
    """The WeCom client of one of the workspace's WeCom configurations."""
    config = service.get_channel(session, actor=actor, config_id=config_id, field=field)
    if config.kind != "wecom":
        raise Invalid("this is not a WeCom channel", field=field)
    return service.adapter_for(session, config)


def contacts_of_staff(session: Session, *, actor: Actor, config_id: int, staff_userid: str) -> dict[int, str]:
    """The external user id of each customer a staff member has as a current WeCom contact, by customer id."""
    config = service.get_channel(session, actor=actor, config_id=config_id)
    rows = session.execute(select(WeComContact.customer_id, WeComContact.external_userid)
                           .where(WeComContact.channel_config_id == config.id,
                                  WeComContact.staff_userid == staff_userid, WeComContact.removed_at.is_(None)))
    return dict(rows.all())


def record_follow(session: Session, *, actor: Actor, config_id: int, customer_id: int, external_userid: str,
                  staff_userid: str, state: str | None = None, at: datetime | None = None) -> None:
    """Record that a staff member has a customer as a WeCom contact (for imports; callbacks and syncs record their
    own)."""
    actor.require(Permission.WRITE)
    config = _wecom(session, actor=actor, config_id=config_id)
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    _follow(session, config, customer, external_userid=external_userid, staff=staff_userid, state=state,
            at=at or utcnow())


def map_state(session: Session, *, actor: Actor, config_id: int, state: str, channel_code: str | None) -> None:
    """Point a contact way's `state` at the channel its contacts are acquired through (None: forget it)."""
    config = service.get_channel(session, actor=actor, config_id=config_id)
    states = dict(config.settings.get("state_channels") or {})
    if channel_code is None:
        states.pop(state, None)
    else:
        states[state] = channel_code
    config.settings = {**config.settings, "state_channels": states}


def acquisition_code(session: Session, *, actor: Actor, config: ChannelConfig, state: str | None) -> str | None:
    """The first-touch channel code for a contact way's state: settings.state_channels[state], else a channel
    whose code is the state, else the configuration's acquisition channel."""
    mapped = (config.settings.get("state_channels") or {}).get(state or "")
    if mapped:
        return mapped
    if state:
        try:
            return channels_service.find_channel(session, actor=actor, code=state).code
        except NotFound:
            pass
    if config.acquisition_channel_id:
        return channels_service.get_channel(session, actor=actor, channel_id=config.acquisition_channel_id).code
    return None


def _customer_in(session: Session, actor: Actor, config: ChannelConfig, *, external_userid: str,
                 unionid: str | None, name: str | None, state: str | None, at: datetime | None) -> CustomerIn:
    identities = [IdentityIn(kind=IdentityKind.WECOM_EXTERNAL_USERID, value=external_userid)]
    if unionid:
        identities.append(IdentityIn(kind=IdentityKind.WECHAT_UNIONID, value=unionid))
    return CustomerIn(name=name or None, identities=identities, first_seen_at=at,
                      first_channel=acquisition_code(session, actor=actor, config=config, state=state),
                      source_campaign=f"wecom:{state}" if state else None)


def _follow(session: Session, config: ChannelConfig, customer: Customer, *, external_userid: str, staff: str,
            state: str | None, at: datetime | None) -> WeComContact:
    row = session.scalar(select(WeComContact).where(WeComContact.channel_config_id == config.id,
                                                    WeComContact.external_userid == external_userid,
                                                    WeComContact.staff_userid == staff))
    if row is None:
        row = WeComContact(workspace_id=config.workspace_id, channel_config_id=config.id, customer_id=customer.id,
                           external_userid=external_userid, staff_userid=staff, state=state, added_at=at)
        session.add(row)
    row.customer_id, row.removed_at = customer.id, None
    row.state = row.state or state
    return row


def sync_contacts(session: Session, *, actor: Actor, config_id: int, staff_userids: list[str],
                  upsert: Upsert) -> WeComSyncOut:
    """Pull the staff members' external contacts (batch/get_by_user, whole cursor) into customers with their
    identities, first-touch channel and corp tags."""
    actor.require(Permission.BULK)
    config = _wecom(session, actor=actor, config_id=config_id)
    with calling(session, actor=actor, config_id=config.id, field="staff_userids") as client:
        contacts: list[Contact] = list(client.contacts(userids=staff_userids))
    tags = tags_service.by_external_ids(session, actor=actor,
                                        external_ids=[t for c in contacts for t in c.tag_ids])
    created = updated = tagged = 0
    for contact in contacts:
        at = datetime.fromtimestamp(contact.createtime, UTC) if contact.createtime else None
        data = _customer_in(session, actor, config, external_userid=contact.external_userid,
                            unionid=contact.unionid, name=contact.name, state=contact.state, at=at)
        customer, outcome, _ = upsert(session, actor=actor, data=data)
        created += outcome == "created"
        updated += outcome == "updated"
        _follow(session, config, customer, external_userid=contact.external_userid, staff=contact.staff_userid,
                state=contact.state, at=at)
        add = [tags[t] for t in contact.tag_ids if t in tags]
        if add:
            tagged += tags_service.apply(session, actor=actor, customer_ids=[customer.id], add=add, remove=[],
                                         source="wecom")[0]
    workspaces_service.record(session, actor=actor, action="wecom.contacts_synced", entity_type="channel_config",
                              entity_id=config.id, changes={"contacts": len(contacts), "created": created})
    return WeComSyncOut(contacts=len(contacts), created=created, updated=updated, tags_applied=tagged)


def sync_tags(session: Session, *, actor: Actor, config_id: int, push_tag_ids: list[int]) -> TagSyncOut:
    """Corp tags both ways: WeCom's groups/tags become Yutang's (linked by id); the given Yutang tags are
    created in WeCom when missing and marked on every synced contact of the customers who carry them."""
    actor.require(Permission.BULK)
    config = _wecom(session, actor=actor, config_id=config_id)
    pulled = pushed = marked = 0
    with calling(session, actor=actor, config_id=config.id, field="config_id") as client:
        for corp in client.corp_tags():
            linked = tags_service.by_external_ids(session, actor=actor, external_ids=[corp.tag_id])
            if corp.tag_id in linked:
                continue
            tag = tags_service.resolve(session, actor=actor, refs=[TagRef(group=corp.group_name, name=corp.tag_name)],
                                       create_missing=True)[0]
            tags_service.link_external(session, actor=actor, tag=tag, tag_external_id=corp.tag_id,
                                       group_external_id=corp.group_id)
            pulled += 1
        for tag in tags_service.resolve(session, actor=actor, refs=[TagRef(id=t) for t in push_tag_ids],
                                        field="push_tag_ids"):
            if not tag.external_id:
                group = tags_service.group_name_of(session, actor=actor, tag=tag)
                made = client.add_corp_tags(group_name=group, names=[tag.name])[0]
                tags_service.link_external(session, actor=actor, tag=tag, tag_external_id=made.tag_id,
                                           group_external_id=made.group_id)
                pushed += 1
            holders = tags_service.customers_with(actor, tag_ids=[tag.id])
            follows = session.scalars(select(WeComContact).where(WeComContact.channel_config_id == config.id,
                                                                 WeComContact.removed_at.is_(None),
                                                                 WeComContact.customer_id.in_(holders)))
            for follow in follows:
                client.mark_tag(staff_userid=follow.staff_userid, external_userid=follow.external_userid,
                                add=[tag.external_id])
                marked += 1
    return TagSyncOut(pulled=pulled, pushed=pushed, marked=marked)


def sync_send_results(session: Session, *, actor: Actor, config_id: int) -> int:
    """Group-send results (get_groupmsg_send_result) as deliveries: 1 delivered, 2/3 failed. Returns changes."""
    actor.require(Permission.WRITE)
    config = _wecom(session, actor=actor, config_id=config_id)
    pending = list(session.scalars(select(Message).where(Message.channel_config_id == config.id,
                                                         Message.status == Status.SENT,
                                                         Message.provider_id.is_not(None))))
    by_msgid: dict[str, list[Message]] = {}
    for message in pending:
        by_msgid.setdefault(message.provider_id, []).append(message)
    changed = 0
    with calling(session, actor=actor, config_id=config.id, field="config_id") as client:
        for msgid, messages in by_msgid.items():
            staff = messages[0].payload.get("sender") or config.settings.get("sender") or ""
            results = {r["external_userid"]: r for r in client.send_results(msgid=msgid, staff_userid=staff)}
            for message in messages:
                row = results.get(message.address)
                if row is None or row["status"] == 0:
                    continue
                at = datetime.fromtimestamp(row["send_time"], UTC) if row.get("send_time") else None
                if row["status"] == 1:
                    changed += service.advance(session, message, Status.DELIVERED, at=at)
                else:
                    reason = {2: "not a contact any more", 3: "already received another group send"}
                    changed += service.advance(session, message, Status.FAILED,
                                               error_code=f"wecom_status_{row['status']}",
                                               error_message=reason.get(row["status"], "not sent"))
    return changed


# ---- the callback -------------------------------------------------------------------------------------------

# A callback's timestamp may differ from our clock by this much either way (WeCom answers within seconds; the rest
# is clock skew). Nonces are remembered for twice the window, so a replay is refused for as long as its timestamp
# could pass the check.
CALLBACK_WINDOW = timedelta(minutes=5)


def check_fresh(session: Session, *, config: ChannelConfig, timestamp: str, nonce: str,
                now: datetime | None = None) -> None:
    """Refuse a signed callback whose timestamp is outside CALLBACK_WINDOW or whose nonce was used already.

    Call it after the signature check and in the transaction that applies the callback: if applying fails, the
    nonce is not kept and WeCom's retry is accepted.
    """
    now = now or utcnow()
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > CALLBACK_WINDOW.total_seconds():
        raise Forbidden(f"timestamp is more than {int(CALLBACK_WINDOW.total_seconds())} s from the server's clock",
                        field="timestamp")
    if not nonce or len(nonce) > 64:
        raise Forbidden("nonce is missing or too long", field="nonce")
    session.execute(delete(WeComCallbackNonce).where(WeComCallbackNonce.seen_at < now - 2 * CALLBACK_WINDOW))
    try:
        with session.begin_nested():
            session.add(WeComCallbackNonce(workspace_id=config.workspace_id, channel_config_id=config.id, nonce=nonce,
                                           seen_at=now))
    except IntegrityError as exc:
        raise Forbidden("nonce was used already (a replayed callback)", field="nonce") from exc


def crypt_for(session: Session, config: ChannelConfig) -> WXBizMsgCrypt:
    """The callback cryptography of a WeCom configuration (token + EncodingAESKey secrets, corp id)."""
    values = service.channel_secrets(session, config)
    if not values.get("callback_token") or not values.get("encoding_aes_key"):
        raise NotFound("this channel has no callback configured", field="config_id")
    return WXBizMsgCrypt(values["callback_token"], values["encoding_aes_key"], config.settings["corp_id"])


def system_actor(session: Session, config: ChannelConfig) -> Actor:
    """Who acts for a verified callback: the workspace itself (no member)."""
    workspace = workspaces_service.get_workspace(session, workspace_id=config.workspace_id)
    return Actor(workspace_id=config.workspace_id, member_id=None, role=Role.OWNER, timezone=workspace.timezone)


def handle_event(session: Session, *, config: ChannelConfig, fields: dict[str, str], upsert: Upsert,
                 on_contact: ContactHook | None = None, on_chat: ChatHook | None = None) -> str:
    """Apply one decrypted callback; returns what it did (for logs and tests)."""
    actor = system_actor(session, config)
    at = datetime.fromtimestamp(int(fields["CreateTime"]), UTC) if fields.get("CreateTime", "").isdigit() \
        else utcnow()
    if fields.get("MsgType") == "text":
        customer, _, _ = upsert(session, actor=actor, data=_customer_in(
            session, actor, config, external_userid=fields["FromUserName"], unionid=None, name=None, state=None,
            at=at))
        inbox.receive(session, config=config, customer=customer, body=fields.get("Content", ""),
                      external_id=fields.get("MsgId"), at=at)
        return "received"
    if fields.get("Event") == "change_external_chat":
        return on_chat(session, actor=actor, config=config, fields=fields, at=at) if on_chat else "ignored"
    if fields.get("Event") != "change_external_contact":
        return "ignored"
    change, external, staff = fields.get("ChangeType"), fields.get("ExternalUserID", ""), fields.get("UserID", "")
    state = fields.get("State") or None
    if change in ("add_external_contact", "add_half_external_contact", "edit_external_contact"):
        customer, _, _ = upsert(session, actor=actor, data=_customer_in(
            session, actor, config, external_userid=external, unionid=None, name=None, state=state, at=at))
        _follow(session, config, customer, external_userid=external, staff=staff, state=state, at=at)
        code = acquisition_code(session, actor=actor, config=config, state=state)
        if code and change != "edit_external_contact":
            customers_service.record_membership(session, actor=actor, customer_id=customer.id, channel_code=code,
                                                joined=True, at=at)
        welcomed = False
        if on_contact is not None and change != "edit_external_contact":
            welcomed = on_contact(session, actor=actor, config=config, change=change, customer_id=customer.id,
                                  staff=staff, external_userid=external, state=state,
                                  welcome_code=fields.get("WelcomeCode") or None, at=at)
        welcome = config.settings.get("welcome_template_id")
        if fields.get("WelcomeCode") and welcome and not welcomed:
            service.enqueue(session, actor=actor, data=MessageIn(
                channel_id=config.id, customer_id=customer.id, template_id=int(welcome), purpose=Purpose.SERVICE,
                payload={"welcome_code": fields["WelcomeCode"]}, track_links=False,
                idempotency_key=f"welcome:{fields['WelcomeCode']}"))
        return change
    if change in ("del_external_contact", "del_follow_user"):
        follows = list(session.scalars(select(WeComContact).where(WeComContact.channel_config_id == config.id,
                                                                  WeComContact.external_userid == external,
                                                                  WeComContact.staff_userid == staff)))
        for follow in follows:
            follow.removed_at = at
            still = session.scalar(select(WeComContact.id).where(WeComContact.customer_id == follow.customer_id,
                                                                 WeComContact.channel_config_id == config.id,
                                                                 WeComContact.removed_at.is_(None)))
            code = acquisition_code(session, actor=actor, config=config, state=follow.state)
            if still is None and code:
                customers_service.record_membership(session, actor=actor, customer_id=follow.customer_id,
                                                    channel_code=code, joined=False, at=at)
            if on_contact is not None:
                on_contact(session, actor=actor, config=config, change=change, customer_id=follow.customer_id,
                           staff=staff, external_userid=external, state=follow.state, welcome_code=None, at=at)
        return change
    return "ignored"
