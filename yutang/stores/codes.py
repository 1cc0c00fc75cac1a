"""Channel QR codes (渠道活码) through WeCom contact ways: create, change, delete, render, and what an add does."""

import io
from datetime import datetime

import qrcode
from qrcode.image.pil import PilImage
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.messaging import wecom
from yutang.messaging.adapters.base import ChannelError
from yutang.orders import service as orders_service
from yutang.storage.scoped import get_in_workspace
from yutang.stores.directory import get_staff, get_store, staff_by_wecom
from yutang.stores.models import ContactCode, ContactCodeAdd, Staff
from yutang.stores.ownership import claim
from yutang.stores.schemas import ClaimIn, CodeIn, CodeKind, CodePatch, CodeStatsOut
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagRef
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def _staff(session: Session, actor: Actor, staff_ids: list[int], *, multi: bool) -> list[Staff]:
    if not multi and len(staff_ids) != 1:
        raise Invalid("a single-person code names exactly one staff member (set multi for rotation)",
                      field="staff_ids")
    found = []
    for index, staff_id in enumerate(staff_ids):
        staff = get_staff(session, actor=actor, staff_id=staff_id, field=f"staff_ids[{index}]")
        if staff.left_on is not None:
            raise Conflict(f"{staff.name} left on {staff.left_on}: a code cannot send customers to them",
                           field=f"staff_ids[{index}]")
        if not staff.wecom_userid:
            raise Invalid(f"{staff.name} has no WeCom user id", field=f"staff_ids[{index}]")
        found.append(staff)
    return found


def create_code(session: Session, *, actor: Actor, data: CodeIn) -> ContactCode:
    """Create the WeCom contact way and the code that maps its `state` back to channel, store, guide and campaign."""
    actor.require(Permission.MANAGE)
    if session.scalar(select(ContactCode.id).where(ContactCode.workspace_id == actor.workspace_id,
                                                   ContactCode.code == data.code)):
        raise Conflict(f"a code {data.code!r} exists already", field="code")
    staff = _staff(session, actor, data.staff_ids, multi=data.multi)
    store = get_store(session, actor=actor, store_id=data.store_id) if data.store_id is not None else None
    if data.kind is CodeKind.STORE and store is None:
        raise Invalid("a store code names its store", field="store_id")
    if data.kind is CodeKind.CAMPAIGN and not data.campaign:
        raise Invalid("a campaign code names its campaign", field="campaign")
    if data.channel is not None:
        channel = channels_service.find_channel(session, actor=actor, code=data.channel, field="channel")
    elif store is not None or staff[0].store_id is not None:
        store = store or get_store(session, actor=actor, store_id=staff[0].store_id)
        channel = channels_service.get_channel(session, actor=actor, channel_id=store.channel_id)
    else:
        raise Invalid("say which channel the code acquires for (or give a store)", field="channel")
    tags = tags_service.resolve(session, actor=actor, refs=[TagRef(id=t) for t in data.tag_ids], field="tag_ids")
    with wecom.calling(session, actor=actor, config_id=data.config_id, field="staff_ids") as client:
        if data.adopt_config_id:  # a contact way made in WeCom's admin already: its QR stays valid
            if not data.adopt_qr_url:
                raise Invalid("an adopted contact way needs its qr_code URL", field="adopt_qr_url")
            config_id, qr_url = data.adopt_config_id, data.adopt_qr_url
        else:
            config_id, qr_url = client.add_contact_way(users=[s.wecom_userid for s in staff], state=data.code,
                                                       multi=data.multi, skip_verify=data.skip_verify,
                                                       remark=data.name)
    code = ContactCode(workspace_id=actor.workspace_id, code=data.code, name=data.name, kind=data.kind.value,
                       messaging_config_id=data.config_id, channel_id=channel.id,
                       store_id=store.id if store else None, campaign=data.campaign, staff_ids=list(data.staff_ids),
                       multi=data.multi, skip_verify=data.skip_verify, welcome_text=data.welcome_text,
                       tag_ids=[t.id for t in tags], wecom_config_id=config_id, qr_url=qr_url)
    session.add(code)
    session.flush()
    wecom.map_state(session, actor=actor, config_id=data.config_id, state=data.code, channel_code=channel.code)
    workspaces_service.record(session, actor=actor, action="contact_code.created", entity_type="contact_code",
                              entity_id=code.id, changes=data.model_dump(mode="json"))
    return code


def get_code(session: Session, *, actor: Actor, code_id: int) -> ContactCode:
    """A code of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, ContactCode, code_id, workspace_id=actor.workspace_id, what="contact code",
                            field="code_id")


def list_codes(session: Session, *, actor: Actor, store_id: int | None = None,
               include_deleted: bool = False) -> list[ContactCode]:
    """Codes of the workspace by code, of one store if asked."""
    actor.require(Permission.READ)
    query = select(ContactCode).where(ContactCode.workspace_id == actor.workspace_id)
    if store_id is not None:
        query = query.where(ContactCode.store_id == store_id)
    if not include_deleted:
        query = query.where(ContactCode.deleted_at.is_(None))
    return list(session.scalars(query.order_by(ContactCode.code)))


def _live(session: Session, actor: Actor, code_id: int) -> ContactCode:
    code = get_code(session, actor=actor, code_id=code_id)
    if code.deleted_at is not None:
        raise Conflict("this code was deleted", field="code_id")
    return code


def update_code(session: Session, *, actor: Actor, code_id: int, data: CodePatch) -> ContactCode:
    """Change a code's staff, verification, welcome message or tags; WeCom keeps the same QR image."""
    actor.require(Permission.MANAGE)
    code = _live(session, actor, code_id)
    changes = data.changes()
    staff_ids = changes.get("staff_ids", code.staff_ids)
    staff = _staff(session, actor, staff_ids, multi=code.multi)
    if "tag_ids" in changes:
        tags_service.resolve(session, actor=actor, refs=[TagRef(id=t) for t in changes["tag_ids"]], field="tag_ids")
    if {"staff_ids", "skip_verify", "name"} & set(changes):
        with wecom.calling(session, actor=actor, config_id=code.messaging_config_id, field="staff_ids") as client:
            client.update_contact_way(config_id=code.wecom_config_id, users=[s.wecom_userid for s in staff],
                                      state=code.code, skip_verify=changes.get("skip_verify", code.skip_verify),
                                      remark=changes.get("name", code.name))
    for key, value in changes.items():
        setattr(code, key, value)
    workspaces_service.record(session, actor=actor, action="contact_code.updated", entity_type="contact_code",
                              entity_id=code.id, changes=changes)
    return code


def delete_code(session: Session, *, actor: Actor, code_id: int) -> ContactCode:
    """Delete the WeCom contact way (its QR stops working); the code and its figures stay."""
    actor.require(Permission.MANAGE)
    code = _live(session, actor, code_id)
    with wecom.calling(session, actor=actor, config_id=code.messaging_config_id, field="code_id") as client:
        client.del_contact_way(config_id=code.wecom_config_id)
    code.deleted_at = utcnow()
    workspaces_service.record(session, actor=actor, action="contact_code.deleted", entity_type="contact_code",
                              entity_id=code.id)
    return code


def qr_png(session: Session, *, actor: Actor, code_id: int, box_size: int = 10) -> bytes:
    """The code's QR image as PNG, rendered here from WeCom's QR URL, for print."""
    code = get_code(session, actor=actor, code_id=code_id)
    if not code.qr_url:
        raise NotFound("this code has no QR URL", field="code_id")
    image = qrcode.make(code.qr_url, image_factory=PilImage, box_size=box_size, border=4)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def contact_changed(session: Session, *, actor: Actor, config, change: str, customer_id: int, staff: str,
                    external_userid: str, state: str | None, welcome_code: str | None, at: datetime) -> bool:
    """The WeCom callback's hook: an add through a code gives the customer its store and owner (by the rule), its
    tags and welcome message; a deletion is counted. Returns whether the welcome message was sent here."""
    code = session.scalar(select(ContactCode).where(ContactCode.workspace_id == actor.workspace_id,
                                                    ContactCode.code == (state or ""),
                                                    ContactCode.messaging_config_id == config.id))
    if code is None:
        return False
    member = staff_by_wecom(session, workspace_id=actor.workspace_id, wecom_userid=staff)
    if change in ("del_external_contact", "del_follow_user"):
        for row in session.scalars(select(ContactCodeAdd).where(ContactCodeAdd.code_id == code.id,
                                                                ContactCodeAdd.customer_id == customer_id,
                                                                ContactCodeAdd.removed_at.is_(None))):
            row.removed_at = at
        return False
    add = ContactCodeAdd(workspace_id=actor.workspace_id, code_id=code.id, customer_id=customer_id,
                         staff_id=member.id if member else None, external_userid=external_userid, added_at=at)
    session.add(add)
    if member is not None and member.member_id is not None:
        claim(session, actor=actor, customer_id=customer_id,
              data=ClaimIn(member_id=member.member_id, store_id=code.store_id or member.store_id), now=at)
    if code.tag_ids:
        tags = tags_service.resolve(session, actor=actor, refs=[TagRef(id=t) for t in code.tag_ids], field="tag_ids")
        tags_service.apply(session, actor=actor, customer_ids=[customer_id], add=tags, remove=[], source="wecom_code")
    if welcome_code and code.welcome_text:
        client = wecom.client_for(session, actor=actor, config_id=config.id)
        try:
            client.send_welcome(welcome_code=welcome_code, text=code.welcome_text)
            add.welcomed = True
        except ChannelError:
            add.welcomed = False  # the code is valid 20 s once; a failed welcome is not retried
        finally:
            client.close()
        return add.welcomed
    session.flush()
    return False


def code_stats(session: Session, *, actor: Actor, code_id: int) -> CodeStatsOut:
    """Adds, deletions and conversions (a paid order after the add) of one code."""
    code = get_code(session, actor=actor, code_id=code_id)
    adds = list(session.scalars(select(ContactCodeAdd).where(ContactCodeAdd.code_id == code.id)))
    deletions = sum(1 for a in adds if a.removed_at is not None)
    converted = set()
    for add in adds:
        orders = orders_service.list_orders(session, actor=actor, customer_id=add.customer_id, limit=10_000)
        if any(orders_service.is_paid(o.status) and o.paid_at and o.paid_at >= add.added_at for o in orders):
            converted.add(add.customer_id)
    customers = {a.customer_id for a in adds}
    return CodeStatsOut(code_id=code.id, adds=len(adds), deletions=deletions, retained=len(adds) - deletions,
                        conversions=len(converted),
                        conversion_rate=round(len(converted) / len(customers), 4) if customers else 0.0)


def move_adds(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: adds through codes follow the customer."""
    return session.execute(update(ContactCodeAdd).where(ContactCodeAdd.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount


def export_adds(session: Session, *, customer_id: int) -> list[dict]:
    """The codes a customer was added through."""
    rows = session.execute(select(ContactCodeAdd, ContactCode.code).join(ContactCode, ContactCode.id ==
                                                                         ContactCodeAdd.code_id)
                           .where(ContactCodeAdd.customer_id == customer_id).order_by(ContactCodeAdd.id))
    return [{"code": code, "added_at": add.added_at.isoformat(),
             "removed_at": add.removed_at.isoformat() if add.removed_at else None} for add, code in rows]


def erase_adds(session: Session, *, customer_id: int) -> None:
    """Blank the WeCom external user id of an erased customer's adds (the counts stay)."""
    session.execute(update(ContactCodeAdd).where(ContactCodeAdd.customer_id == customer_id)
                    .values(external_userid="(erased)"))
