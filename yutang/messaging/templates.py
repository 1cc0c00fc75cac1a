"""Message templates: checked on save, rendered for a customer or sample values."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.customers.service import Customer
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import templating
from yutang.messaging.models import MessageTemplate
from yutang.messaging.schemas import ChannelKind, PreviewIn, Rendered, TemplateIn
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def _check_template(data: TemplateIn) -> None:
    templating.check(data.subject, field="subject")
    templating.check(data.body, field="body")
    templating.check_payload(data.payload)
    if data.channel_kind in (ChannelKind.WECHAT_OA, ChannelKind.WECHAT_MP) and not data.payload.get("template_id"):
        raise Invalid("a WeChat template names its template_id", field="payload.template_id")
    if data.channel_kind is ChannelKind.SMS and not data.payload.get("template"):
        raise Invalid("an SMS template names the provider's template code", field="payload.template")
    if len(data.payload.get("attachments", [])) > 9:
        raise Invalid("at most 9 attachments", field="payload.attachments")


def create_template(session: Session, *, actor: Actor, data: TemplateIn) -> MessageTemplate:
    """Store a template after checking its syntax and variables."""
    actor.require(Permission.WRITE)
    _check_template(data)
    if session.scalar(select(MessageTemplate.id).where(MessageTemplate.workspace_id == actor.workspace_id,
                                                       MessageTemplate.name == data.name)):
        raise Conflict(f"a template named {data.name!r} exists", field="name")
    template = MessageTemplate(workspace_id=actor.workspace_id, **data.model_dump(mode="json"))
    session.add(template)
    session.flush()
    workspaces_service.record(session, actor=actor, action="messaging.template_created", entity_type="template",
                              entity_id=template.id, changes={"name": data.name})
    return template


def update_template(session: Session, *, actor: Actor, template_id: int, data: TemplateIn) -> MessageTemplate:
    """Replace a template's content."""
    actor.require(Permission.WRITE)
    template = get_template(session, actor=actor, template_id=template_id)
    _check_template(data)
    clash = session.scalar(select(MessageTemplate.id).where(MessageTemplate.workspace_id == actor.workspace_id,
                                                            MessageTemplate.name == data.name,
                                                            MessageTemplate.id != template.id))
    if clash:
        raise Conflict(f"a template named {data.name!r} exists", field="name")
    for key, value in data.model_dump(mode="json").items():
        setattr(template, key, value)
    template.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="messaging.template_updated", entity_type="template",
                              entity_id=template.id)
    return template


def get_template(session: Session, *, actor: Actor, template_id: int, field: str = "template_id") -> MessageTemplate:
    """A template of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, MessageTemplate, template_id, workspace_id=actor.workspace_id,
                            what="template", field=field)


def list_templates(session: Session, *, actor: Actor, purpose: str | None = None,
                   channel_kind: str | None = None) -> list[MessageTemplate]:
    """Templates, by name."""
    actor.require(Permission.READ)
    query = select(MessageTemplate).where(MessageTemplate.workspace_id == actor.workspace_id)
    if purpose:
        query = query.where(MessageTemplate.purpose == purpose)
    if channel_kind:
        query = query.where(MessageTemplate.channel_kind == channel_kind)
    return list(session.scalars(query.order_by(MessageTemplate.name)))


def variables_for(session: Session, *, workspace_id: int, customers: list[Customer]) -> dict[int, dict[str, Any]]:
    """The template variables per customer: profile fields plus what the providers give."""
    extra = templating.provided(session, workspace_id=workspace_id, customer_ids=[c.id for c in customers])
    return {c.id: {"name": c.name or "", "city": c.city or "", **extra[c.id]} for c in customers}


def sample_variables() -> dict[str, Any]:
    """Variables for a preview without a customer."""
    return {"name": "张三", "city": "上海", "tier": "Gold", "points": 1280, "coupon_code": "SAMPLE-2026"}


def preview(session: Session, *, actor: Actor, data: PreviewIn) -> Rendered:
    """A stored or draft template rendered for a sample customer (or sample values)."""
    if data.template_id is not None:
        stored = get_template(session, actor=actor, template_id=data.template_id)
        template = TemplateIn(name=stored.name, channel_kind=stored.channel_kind, purpose=stored.purpose,
                              subject=stored.subject, body=stored.body, payload=stored.payload)
    elif data.template is not None:
        template = data.template
        _check_template(template)
    else:
        raise Invalid("give template_id or template", field="template_id")
    if data.customer_id is not None:
        customer = customers_service.get_customer(session, actor=actor, customer_id=data.customer_id)
        variables = variables_for(session, workspace_id=actor.workspace_id, customers=[customer])[customer.id]
    else:
        variables = sample_variables()
    return Rendered(subject=templating.render(template.subject, variables, field="subject"),
                    body=templating.render(template.body, variables) or "",
                    payload=templating.render_payload(template.payload, variables), variables=variables)
