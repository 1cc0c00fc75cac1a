"""Messaging: channel configurations, templates and previews, messages and their delivery log, the inbox,
WeCom syncs; plus the public routes channels call back on (WeCom, SMS receipts) and tracked links."""

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from yutang.api.deps import ActorDep, IdPath, database, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.archive import service as archive_service
from yutang.groups import service as groups_service
from yutang.kit.errors import Forbidden, Invalid
from yutang.kit.fields import Id
from yutang.kit.pagination import decode_cursor
from yutang.messaging import flows, inbox, service, wecom
from yutang.messaging.adapters.wecom_crypto import CallbackError, WXBizMsgCrypt, parse_xml
from yutang.messaging.schemas import (
    AssignIn,
    AttemptOut,
    ChannelConfigIn,
    ChannelConfigOut,
    ChannelConfigPatch,
    CheckOut,
    DeliveryIn,
    InboundIn,
    MessageIn,
    MessageOut,
    PreviewIn,
    QueueIn,
    QueueOut,
    Rendered,
    ReplyIn,
    Status,
    TagSyncOut,
    TemplateIn,
    TemplateOut,
    ThreadDetail,
    ThreadOut,
    WeComSyncIn,
    WeComSyncOut,
)
from yutang.stores import service as stores_service

router = APIRouter(tags=["messaging"])
public = APIRouter(include_in_schema=False)
Limit = Annotated[int, Query(ge=1, le=500)]


def link_base(request: Request) -> str:
    """Where tracked links point: this server as the caller reached it."""
    return str(request.base_url).rstrip("/")


# ---- channels -------------------------------------------------------------------------------------------


@router.get("/messaging/channels", response_model=list[ChannelConfigOut])
def list_channels(request: Request, actor: ActorDep):
    """Channel configurations (secrets are never shown, only which are set)."""
    with read_only(request) as session:
        return [service.present_channel(session, c) for c in service.list_channels(session, actor=actor)]


@router.post("/messaging/channels", response_model=ChannelConfigOut, status_code=201)
def create_channel(request: Request, actor: ActorDep, data: ChannelConfigIn):
    """Configure a channel adapter (owner only); secrets are write-only."""
    with unit_of_work(request) as session:
        return service.present_channel(session, service.create_channel(session, actor=actor, data=data))


@router.get("/messaging/channels/{config_id}", response_model=ChannelConfigOut)
def get_channel(request: Request, actor: ActorDep, config_id: IdPath):
    """One channel configuration."""
    with read_only(request) as session:
        return service.present_channel(session, service.get_channel(session, actor=actor, config_id=config_id))


@router.patch("/messaging/channels/{config_id}", response_model=ChannelConfigOut)
def update_channel(request: Request, actor: ActorDep, config_id: IdPath, data: ChannelConfigPatch):
    """Change settings, replace secrets, enable or disable."""
    with unit_of_work(request) as session:
        config = service.update_channel(session, actor=actor, config_id=config_id, data=data)
        return service.present_channel(session, config)


@router.post("/messaging/channels/{config_id}/check", response_model=CheckOut)
def check_channel(request: Request, actor: ActorDep, config_id: IdPath):
    """Test the adapter against its peer (WeCom gettoken, SMTP EHLO and login, the SMS status call, a signed
    webhook ping); nothing is sent to a customer."""
    result = flows.check_channel(database(request).factory, actor=actor, config_id=config_id)
    return CheckOut(ok=result.ok, code=result.code, message=result.message)


@router.post("/messaging/channels/{config_id}/wecom/contacts-sync", response_model=WeComSyncOut)
def sync_wecom_contacts(request: Request, actor: ActorDep, config_id: IdPath, data: WeComSyncIn):
    """Pull the staff members' WeCom external contacts into customers (OneID upsert, tags, first touch)."""
    with unit_of_work(request) as session:
        return wecom.sync_contacts(session, actor=actor, config_id=config_id, staff_userids=data.staff_userids,
                                   upsert=archive_service.upsert_customer)


@router.post("/messaging/channels/{config_id}/wecom/tags-sync", response_model=TagSyncOut)
def sync_wecom_tags(request: Request, actor: ActorDep, config_id: IdPath,
                    push_tag_id: Annotated[list[Id] | None, Query()] = None):
    """Pull WeCom corp tags into tag groups; push the given tags to WeCom and mark them on synced contacts."""
    with unit_of_work(request) as session:
        return wecom.sync_tags(session, actor=actor, config_id=config_id, push_tag_ids=push_tag_id or [])


@router.post("/messaging/channels/{config_id}/wecom/results-sync")
def sync_wecom_results(request: Request, actor: ActorDep, config_id: IdPath) -> dict:
    """Fetch group-send results for sent WeCom messages: delivered or failed with WeCom's status."""
    with unit_of_work(request) as session:
        return {"changed": wecom.sync_send_results(session, actor=actor, config_id=config_id)}


# ---- templates ----------------------------------------------------------------------------------------


@router.get("/messaging/templates", response_model=list[TemplateOut])
def list_templates(request: Request, actor: ActorDep, purpose: str | None = None, channel_kind: str | None = None):
    """Templates, by name (purpose=quick_reply for the inbox's quick replies)."""
    with read_only(request) as session:
        return service.list_templates(session, actor=actor, purpose=purpose, channel_kind=channel_kind)


@router.post("/messaging/templates", response_model=TemplateOut, status_code=201)
def create_template(request: Request, actor: ActorDep, data: TemplateIn):
    """A template in the sandboxed language (variables: name, city, tier, points, coupon_code)."""
    with unit_of_work(request) as session:
        return service.create_template(session, actor=actor, data=data)


@router.get("/messaging/templates/{template_id}", response_model=TemplateOut)
def get_template(request: Request, actor: ActorDep, template_id: IdPath):
    """One template."""
    with read_only(request) as session:
        return service.get_template(session, actor=actor, template_id=template_id)


@router.put("/messaging/templates/{template_id}", response_model=TemplateOut)
def update_template(request: Request, actor: ActorDep, template_id: IdPath, data: TemplateIn):
    """Replace a template."""
    with unit_of_work(request) as session:
        return service.update_template(session, actor=actor, template_id=template_id, data=data)


@router.post("/messaging/templates/preview", response_model=Rendered)
def preview(request: Request, actor: ActorDep, data: PreviewIn):
    """Render a stored or draft template for a sample customer."""
    with unit_of_work(request) as session:
        return service.preview(session, actor=actor, data=data)


# ---- messages -------------------------------------------------------------------------------------------


@router.post("/messages", response_model=MessageOut, status_code=202)
def send_message(request: Request, actor: ActorDep, data: MessageIn):
    """Queue a message; it is sent after commit. Marketing respects consent and refusal (status suppressed)."""
    with unit_of_work(request) as session:
        return service.present(actor, service.enqueue(session, actor=actor, data=data, link_base=link_base(request)))


@router.get("/messages", response_model=Page[MessageOut])
def list_messages(request: Request, actor: ActorDep, customer_id: Id | None = None, status: Status | None = None,
                  channel_id: Id | None = None, cursor: str | None = None, limit: Limit = 50):
    """The delivery report: messages newest first."""
    with read_only(request) as session:
        rows = service.list_messages(session, actor=actor, customer_id=customer_id,
                                     status=status.value if status else None, config_id=channel_id,
                                     before_id=decode_cursor(cursor), limit=limit + 1)
        return page_of([service.present(actor, m) for m in rows], ids=[m.id for m in rows], limit=limit)


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(request: Request, actor: ActorDep, message_id: IdPath):
    """One message with its state."""
    with read_only(request) as session:
        return service.present(actor, service.get_message(session, actor=actor, message_id=message_id))


@router.get("/messages/{message_id}/attempts", response_model=list[AttemptOut])
def attempts(request: Request, actor: ActorDep, message_id: IdPath):
    """The delivery log of a message."""
    with read_only(request) as session:
        message = service.get_message(session, actor=actor, message_id=message_id)
        return service.attempts_of(session, message_id=message.id)


@router.post("/messages/{message_id}/replay", response_model=MessageOut)
def replay(request: Request, actor: ActorDep, message_id: IdPath):
    """Send a failed or sent message again (webhooks keep their webhook-id)."""
    with unit_of_work(request) as session:
        return service.present(actor, service.replay(session, actor=actor, message_id=message_id))


@router.post("/messages/{message_id}/delivery", response_model=MessageOut)
def delivery(request: Request, actor: ActorDep, message_id: IdPath, data: DeliveryIn):
    """A delivery receipt: delivered, read, clicked or failed."""
    with unit_of_work(request) as session:
        return service.present(actor, service.mark_delivery(session, actor=actor, message_id=message_id, data=data))


# ---- inbox ----------------------------------------------------------------------------------------------


@router.post("/inbox/messages", response_model=ThreadOut, status_code=201)
def inbound(request: Request, actor: ActorDep, data: InboundIn):
    """An inbound message from an integrator: threaded and routed."""
    with unit_of_work(request) as session:
        thread, _ = inbox.receive_api(session, actor=actor, data=data)
        return inbox.present(thread)


@router.get("/inbox/threads", response_model=Page[ThreadOut])
def list_threads(request: Request, actor: ActorDep, status: str | None = "open", member_id: Id | None = None,
                 queue_id: Id | None = None, unassigned: bool = False, customer_id: Id | None = None,
                 cursor: str | None = None, limit: Limit = 50):
    """Threads, newest first."""
    with read_only(request) as session:
        rows = inbox.list_threads(session, actor=actor, status=status or None, member_id=member_id,
                                  queue_id=queue_id, unassigned=unassigned, customer_id=customer_id,
                                  before_id=decode_cursor(cursor), limit=limit + 1)
        return page_of([inbox.present(t) for t in rows], ids=[t.id for t in rows], limit=limit)


@router.get("/inbox/threads/{thread_id}", response_model=ThreadDetail)
def get_thread(request: Request, actor: ActorDep, thread_id: IdPath):
    """A thread with its messages."""
    with read_only(request) as session:
        thread = inbox.get_thread(session, actor=actor, thread_id=thread_id)
        return ThreadDetail(**inbox.present(thread).model_dump(),
                            messages=[service.present(actor, m) for m in inbox.messages_of(session,
                                                                                            thread_id=thread.id)])


@router.post("/inbox/threads/{thread_id}/replies", response_model=MessageOut, status_code=202)
def reply(request: Request, actor: ActorDep, thread_id: IdPath, data: ReplyIn):
    """Answer through the thread's channel (free text or a quick-reply template)."""
    with unit_of_work(request) as session:
        message = inbox.reply(session, actor=actor, thread_id=thread_id, data=data, link_base=link_base(request))
        return service.present(actor, message)


@router.post("/inbox/threads/{thread_id}/resolve", response_model=ThreadOut)
def resolve(request: Request, actor: ActorDep, thread_id: IdPath):
    """Close a thread (resolution time)."""
    with unit_of_work(request) as session:
        return inbox.present(inbox.resolve(session, actor=actor, thread_id=thread_id))


@router.post("/inbox/threads/{thread_id}/assign", response_model=ThreadOut)
def assign(request: Request, actor: ActorDep, thread_id: IdPath, data: AssignIn):
    """Hand a thread to a member."""
    with unit_of_work(request) as session:
        return inbox.present(inbox.assign(session, actor=actor, thread_id=thread_id, member_id=data.member_id))


@router.get("/inbox/queues", response_model=list[QueueOut])
def list_queues(request: Request, actor: ActorDep):
    """Team queues."""
    with read_only(request) as session:
        return inbox.present_queues(session, actor=actor)


@router.post("/inbox/queues", response_model=QueueOut, status_code=201)
def create_queue(request: Request, actor: ActorDep, data: QueueIn):
    """A team queue: round robin among its members, each up to the reception limit of open threads."""
    with unit_of_work(request) as session:
        queue = inbox.create_queue(session, actor=actor, data=data)
        return next(q for q in inbox.present_queues(session, actor=actor) if q.id == queue.id)


# ---- public: channel callbacks and tracked links -----------------------------------------------------------


def _config(session, config_id: int, kind: str) -> service.ChannelConfig:
    config = service.find_channel(session, config_id=config_id)
    if config is None or config.kind != kind:
        raise Forbidden("unknown callback", field="config_id")
    return config


@public.get("/callbacks/wecom/{config_id}", response_class=PlainTextResponse)
def wecom_verify(request: Request, config_id: IdPath, msg_signature: str, timestamp: str, nonce: str,
                 echostr: str):
    """WeCom's URL check: verify the signature and echo the decrypted echostr."""
    with unit_of_work(request) as session:
        config = _config(session, config_id, "wecom")
        try:
            echoed = wecom.crypt_for(session, config).verify_url(msg_signature, timestamp, nonce, echostr)
        except CallbackError as exc:
            raise Forbidden(str(exc), field="msg_signature") from exc
        wecom.check_fresh(session, config=config, timestamp=timestamp, nonce=nonce)
    return echoed


@public.post("/callbacks/wecom/{config_id}", response_class=PlainTextResponse)
async def wecom_event(request: Request, config_id: IdPath, msg_signature: str, timestamp: str, nonce: str):
    """An encrypted WeCom event: contact added / edited / deleted, or an inbound message."""
    body = await request.body()
    with unit_of_work(request) as session:
        config = _config(session, config_id, "wecom")
        try:
            fields = wecom.crypt_for(session, config).open(msg_signature, timestamp, nonce, body)
        except CallbackError as exc:
            raise Forbidden(str(exc), field="msg_signature") from exc
        wecom.check_fresh(session, config=config, timestamp=timestamp, nonce=nonce)
        wecom.handle_event(session, config=config, fields=fields, upsert=archive_service.upsert_customer,
                           on_contact=stores_service.contact_changed, on_chat=groups_service.chat_changed)
    return "success"


def _wechat_verify(session, config: service.ChannelConfig, signature: str, timestamp: str, nonce: str) -> dict:
    values = service.channel_secrets(session, config)
    if not values.get("callback_token"):
        raise Forbidden("this channel has no callback configured", field="config_id")
    expected = hashlib.sha1("".join(sorted([values["callback_token"], timestamp, nonce])).encode()).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Forbidden("signature does not match", field="signature")
    return values


@public.get("/callbacks/wechat/{config_id}", response_class=PlainTextResponse)
def wechat_verify(request: Request, config_id: IdPath, signature: str, timestamp: str, nonce: str, echostr: str):
    """The Official Account's server check: SHA-1 of the sorted token, timestamp and nonce; echo echostr."""
    with read_only(request) as session:
        _wechat_verify(session, _config(session, config_id, "wechat_oa"), signature, timestamp, nonce)
    return echostr


@public.post("/callbacks/wechat/{config_id}", response_class=PlainTextResponse)
async def wechat_event(request: Request, config_id: IdPath, signature: str, timestamp: str, nonce: str,
                       msg_signature: str | None = None, encrypt_type: str | None = None):
    """Official Account events (plain or safe mode): TEMPLATESENDJOBFINISH becomes Delivered or Failed."""
    body = await request.body()
    with unit_of_work(request) as session:
        config = _config(session, config_id, "wechat_oa")
        values = _wechat_verify(session, config, signature, timestamp, nonce)
        try:
            if encrypt_type == "aes":
                crypt = WXBizMsgCrypt(values["callback_token"], values.get("encoding_aes_key", ""),
                                      config.settings["appid"])
                fields = crypt.open(msg_signature or "", timestamp, nonce, body)
            else:
                fields = parse_xml(body)
        except CallbackError as exc:
            raise Forbidden(str(exc), field="msg_signature") from exc
        if fields.get("Event") == "TEMPLATESENDJOBFINISH" and fields.get("MsgID"):
            state = fields.get("Status", "")
            status = Status.DELIVERED if state == "success" else Status.FAILED
            service.mark_by_provider_id(session, config=config, provider_id=fields["MsgID"], status=status,
                                        error_code=None if state == "success" else state[:64],
                                        error_message=None if state == "success" else state)
    return "success"


@public.post("/callbacks/sms/{config_id}")
async def sms_receipt(request: Request, config_id: IdPath) -> dict:
    """An SMS delivery report, signed `X-Signature: hex HMAC-SHA256(api key, body)`:
    {"message_id": …, "status": "DELIVERED" | "FAILED", "code": …, "description": …}."""
    body = await request.body()
    with unit_of_work(request) as session:
        config = _config(session, config_id, "sms")
        key = service.channel_secrets(session, config)["api_key"].encode()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
            raise Forbidden("bad signature", field="x-signature")
        try:
            report = json.loads(body)
            provider_id, state = str(report["message_id"]), str(report["status"]).upper()
        except (ValueError, KeyError, TypeError) as exc:
            raise Invalid("a report has message_id and status", field="body") from exc
        status = Status.DELIVERED if state == "DELIVERED" else Status.FAILED
        found = service.mark_by_provider_id(session, config=config, provider_id=provider_id, status=status,
                                            error_code=report.get("code"), error_message=report.get("description"))
        return {"matched": found is not None}


PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@public.get("/o/{token}.gif")
def open_pixel(request: Request, token: str):
    """An email's open pixel: record the read, answer a transparent 1×1 GIF."""
    # A GET that writes: the open / click is recorded.
    with unit_of_work(request) as session:
        service.opened(session, token=token)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@public.get("/t/{token}")
def tracked(request: Request, token: str):
    """A tracked link: record the click, then redirect to the real URL."""
    # A GET that writes: the open / click is recorded.
    with unit_of_work(request) as session:
        url = service.click(session, token=token)
    return RedirectResponse(url, status_code=302)
