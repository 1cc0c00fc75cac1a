"""Moments (客户朋友圈) publishing through WeCom: add_moment_task for chosen staff and customer tags, then the job's
result, who published, and the comments and likes each post received."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.groups import library
from yutang.groups.models import Moment
from yutang.groups.schemas import MOMENTS_PER_DAY, MomentIn, UseIn
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import wecom
from yutang.storage.scoped import get_in_workspace
from yutang.stores import service as stores_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def _with_material(session: Session, actor: Actor, data: MomentIn) -> MomentIn:
    """The post's text and link from a library material: a text script, or a link or product card (its URL as the
    post's link); images and mini-program cards need WeCom media uploads, which Moments here do not make yet."""
    if data.material_id is None:
        if data.text is None:
            raise Invalid("give either the text or a library material", field="text")
        return data
    if data.text is not None or data.link_url is not None or data.link_title is not None:
        raise Invalid("a library material replaces the text and link: give one or the other", field="material_id")
    material = library.usable(session, actor=actor, material_id=data.material_id)
    if material.kind in ("image", "miniprogram"):
        raise Invalid(f"a {material.kind} material needs a WeCom media upload, which Moments here do not make yet",
                      field="material_id")
    if material.kind == "text":
        return data.model_copy(update={"text": (material.text or material.title)[:2000]})
    return data.model_copy(update={"text": library.headline(material)[:2000],
                                   "link_title": material.title[:64], "link_url": material.url})


def publish(session: Session, *, actor: Actor, data: MomentIn) -> Moment:
    """Create the Moments task in WeCom (staff then publish it in the app). Refused before WeCom is called: a link
    without both title and URL, and a fourth post on one local day (customers see at most three a day)."""
    actor.require(Permission.MANAGE)
    data = _with_material(session, actor, data)
    if (data.link_title is None) != (data.link_url is None):
        raise Invalid("a link needs both a title and a URL", field="link_url" if data.link_url is None
                      else "link_title")
    zone = ZoneInfo(actor.timezone)
    now = utcnow()
    start = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    today = session.scalar(select(func.count()).where(
        Moment.workspace_id == actor.workspace_id, Moment.created_at >= start,
        Moment.created_at < start + timedelta(days=1), Moment.status != "failed"))
    if today >= MOMENTS_PER_DAY:
        raise Conflict(f"customers see at most {MOMENTS_PER_DAY} Moments posts of a company a day: "
                       f"{today} were created today", field="text")
    link = {"title": data.link_title, "url": data.link_url} if data.link_url else None
    with wecom.calling(session, actor=actor, config_id=data.config_id, field="text") as client:
        jobid = client.add_moment_task(text=data.text, link=link, userids=list(dict.fromkeys(data.staff_userids)),
                                       tag_ids=list(dict.fromkeys(data.tag_ids)))
    moment = Moment(workspace_id=actor.workspace_id, messaging_config_id=data.config_id, text=data.text,
                    link_title=data.link_title, link_url=data.link_url,
                    staff_userids=list(dict.fromkeys(data.staff_userids)), tag_ids=list(dict.fromkeys(data.tag_ids)),
                    jobid=jobid, status="creating", invalid={}, results={}, by_member_id=actor.member_id)
    session.add(moment)
    session.flush()
    if data.material_id is not None:
        for userid in moment.staff_userids:
            staff = stores_service.staff_by_wecom(session, workspace_id=actor.workspace_id, wecom_userid=userid)
            library.record_uses(session, actor=actor, material_id=data.material_id, at=now,
                                data=UseIn(staff_id=staff.id if staff else None, channel="moment"))
    workspaces_service.record(session, actor=actor, action="moment.created", entity_type="moment",
                              entity_id=moment.id, changes={"staff": len(moment.staff_userids),
                                                            "tags": len(moment.tag_ids)})
    return moment


def get_moment(session: Session, *, actor: Actor, moment_id: int) -> Moment:
    """A Moments post of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Moment, moment_id, workspace_id=actor.workspace_id, what="Moments post",
                            field="moment_id")


def list_moments(session: Session, *, actor: Actor, limit: int = 100) -> list[Moment]:
    """Moments posts, the latest first (the Moments calendar reads their days)."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Moment).where(Moment.workspace_id == actor.workspace_id)
                                .order_by(Moment.id.desc()).limit(limit)))


def sync_moment(session: Session, *, actor: Actor, moment_id: int) -> Moment:
    """Read WeCom's answers: the job's result (moment id, invalid senders and tags), then per staff member whether
    they published and how many comments and likes their post has."""
    actor.require(Permission.MANAGE)
    moment = get_moment(session, actor=actor, moment_id=moment_id)
    if moment.status == "failed":
        return moment
    if moment.messaging_config_id is None:
        raise Conflict("this post's WeCom configuration is gone", field="moment_id")
    with wecom.calling(session, actor=actor, config_id=moment.messaging_config_id, field="moment_id") as client:
        if moment.moment_id is None:
            job = client.moment_task_result(jobid=moment.jobid)
            if int(job.get("status", 0)) != 3:
                return moment
            result = job.get("result") or {}
            if int(result.get("errcode", 0)):
                moment.status = "failed"
                moment.invalid = {"errcode": result["errcode"], "errmsg": result.get("errmsg", "")}
                return moment
            moment.moment_id, moment.status = result.get("moment_id"), "created"
            moment.invalid = {"staff_userids": (result.get("invalid_sender_list") or {}).get("user_list", []),
                              "tag_ids": (result.get("invalid_external_contact_list") or {}).get("tag_list", [])}
        results = {}
        for row in client.moment_publishers(moment_id=moment.moment_id):
            published = int(row.get("publish_status", 0)) == 1
            figures = client.moment_comments(moment_id=moment.moment_id, userid=row["userid"]) if published else {}
            results[row["userid"]] = {"published": published, "comments": len(figures.get("comment_list", [])),
                                      "likes": len(figures.get("like_list", []))}
        moment.results = results
    return moment
