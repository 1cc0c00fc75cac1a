"""Segments: definitions, preview, explain, rebuild and members (dynamic from the warehouse, static lists)."""

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from yutang.api.deps import ActorDep, CaughtUp, IdPath, PipelineDep, database, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.archive import listing
from yutang.customers import service as customers_service
from yutang.customers.schemas import IdentityIn
from yutang.kit.errors import Invalid
from yutang.kit.pagination import decode_cursor
from yutang.kit.tabular import read_rows
from yutang.runtime.pipeline import Pipeline
from yutang.segments import evaluate, flows, service
from yutang.segments.rules import parse_rule
from yutang.segments.schemas import (
    DuplicateIn,
    ExplainOut,
    MemberOut,
    MembersIn,
    PreviewIn,
    PreviewOut,
    RebuildOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    StaticImportOut,
)
from yutang.segments.service import Segment
from yutang.workspaces.access import Actor, Permission

router = APIRouter(prefix="/segments", tags=["segments"])
MAX_IMPORT_ROWS = 100_000


def _out(pipeline: Pipeline, session, segments: list[Segment]) -> list[SegmentOut]:
    dynamic = pipeline.segments.counts(segment_ids=[s.id for s in segments if s.kind == service.DYNAMIC])
    static = service.static_count(session, segment_ids=[s.id for s in segments if s.kind == service.STATIC])
    return [SegmentOut.model_validate(s).model_copy(update={"member_count": dynamic.get(s.id, static.get(s.id, 0))})
            for s in segments]


def _one(request: Request, pipeline: Pipeline, actor: Actor, segment_id: int) -> SegmentOut:
    with read_only(request) as session:
        return _out(pipeline, session, [service.get(session, actor=actor, segment_id=segment_id)])[0]


@router.post("", response_model=SegmentOut, status_code=201)
def create_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, data: SegmentIn):
    """Create a segment: dynamic ones build their membership now; static ones freeze a rule snapshot and picks."""
    segment_id = flows.create(database(request).factory, pipeline.segments, actor=actor, data=data)
    return _one(request, pipeline, actor, segment_id)


@router.get("", response_model=Page[SegmentOut])
def list_segments(request: Request, actor: ActorDep, pipeline: PipelineDep, cursor: str | None = None,
                  limit: int = Query(50, ge=1, le=200)):
    """Segments, oldest first, cursor-paged, with member counts."""
    with read_only(request) as session:
        rows = service.list_segments(session, actor=actor, after_id=decode_cursor(cursor), limit=limit + 1)
        return page_of(_out(pipeline, session, rows), ids=[r.id for r in rows], limit=limit)


@router.post("/preview", response_model=PreviewOut)
def preview(request: Request, actor: ActorDep, pipeline: CaughtUp, data: PreviewIn):
    """Try a rule without saving it: count, a sample of members and the spread over channels, in one call."""
    actor.require(Permission.READ)
    with read_only(request) as session:
        node = service.parse(session, actor=actor, rule=data.rule)
    return evaluate.preview(pipeline.warehouse, node, workspace_id=actor.workspace_id, timezone=actor.timezone,
                            sample_size=data.sample_size)


@router.get("/{segment_id}", response_model=SegmentOut)
def get_segment(request: Request, actor: ActorDep, pipeline: PipelineDep, segment_id: IdPath):
    """One segment with its member count."""
    return _one(request, pipeline, actor, segment_id)


@router.patch("/{segment_id}", response_model=SegmentOut)
def update_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath, data: SegmentPatch):
    """Rename, describe, change the auto-tag or the rule (a new rule rebuilds the membership)."""
    flows.update(database(request).factory, pipeline.segments, actor=actor, segment_id=segment_id, data=data)
    return _one(request, pipeline, actor, segment_id)


@router.delete("/{segment_id}", status_code=204)
def delete_segment(request: Request, actor: ActorDep, pipeline: PipelineDep, segment_id: IdPath) -> None:
    """Delete a segment; its materialised membership goes, its entry / exit history and events stay."""
    flows.delete(database(request).factory, pipeline.segments, actor=actor, segment_id=segment_id)


@router.post("/{segment_id}/rebuild", response_model=RebuildOut)
def rebuild_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath):
    """Re-evaluate a dynamic segment for everyone now (windows move with the clock)."""
    diff = flows.rebuild(database(request).factory, pipeline.segments, actor=actor, segment_id=segment_id)
    return RebuildOut(members=diff.members or 0, entered=len(diff.entered), exited=len(diff.exited))


@router.get("/{segment_id}/explain/{customer_id}", response_model=ExplainOut)
def explain(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath, customer_id: IdPath):
    """Why a customer is or is not in the segment: each node of the rule, whether it held, the values seen."""
    with read_only(request) as session:
        segment = service.get(session, actor=actor, segment_id=segment_id)
        customers_service.get_customer(session, actor=actor, customer_id=customer_id)
        rule, kind = segment.rule, segment.kind
        static_member = (kind == service.STATIC and customer_id in service.static_members(
            session, segment=segment, after_id=customer_id - 1, limit=1))
    if rule is None:
        return ExplainOut(segment_id=segment_id, customer_id=customer_id, active=True, matches=static_member,
                          member=static_member, tree=None)
    active, tree = evaluate.explain(pipeline.warehouse, parse_rule(rule), workspace_id=actor.workspace_id,
                                    timezone=actor.timezone, customer_id=customer_id)
    member = (static_member if kind == service.STATIC
              else pipeline.segments.is_member(segment_id=segment_id, customer_id=customer_id))
    return ExplainOut(segment_id=segment_id, customer_id=customer_id, active=active,
                      matches=active and tree["held"], member=member, tree=tree)


@router.get("/{segment_id}/members", response_model=Page[MemberOut])
def members(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath, cursor: str | None = None,
            limit: int = Query(100, ge=1, le=1000)):
    """Members by customer id, cursor-paged (dynamic: the materialised membership, with entry times)."""
    with read_only(request) as session:
        segment = service.get(session, actor=actor, segment_id=segment_id)
        after = decode_cursor(cursor)
        if segment.kind == service.STATIC:
            rows = [(cid, None) for cid in service.static_members(session, segment=segment, after_id=after,
                                                                  limit=limit + 1)]
        else:
            rows = pipeline.segments.members(segment_id=segment.id, after_id=after, limit=limit + 1)
    items = [MemberOut(customer_id=cid, entered_at=at) for cid, at in rows]
    return page_of(items, ids=[cid for cid, _ in rows], limit=limit)


@router.get("/{segment_id}/members.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def members_csv(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath):
    """Members as the customer list's CSV (spend in yuan, times in the workspace's zone), streamed; personal data
    masked unless the role may see it."""
    body = listing.stream_members_csv(lambda: read_only(request), pipeline.segments, actor=actor,
                                      warehouse=pipeline.warehouse, segment_id=segment_id)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'})


@router.post("/{segment_id}/duplicate", response_model=SegmentOut, status_code=201)
def duplicate_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, segment_id: IdPath, data: DuplicateIn):
    """A copy under a new name: a dynamic segment's rule (built now) or a static segment's list."""
    new_id = flows.duplicate(database(request).factory, pipeline.segments, actor=actor, segment_id=segment_id,
                             name=data.name)
    return _one(request, pipeline, actor, new_id)


@router.post("/{segment_id}/members", response_model=SegmentOut)
def add_members(request: Request, actor: ActorDep, pipeline: PipelineDep, segment_id: IdPath, data: MembersIn):
    """Add picked customers to a static segment."""
    with unit_of_work(request) as session:
        segment = service.get(session, actor=actor, segment_id=segment_id)
        service.add_static(session, actor=actor, segment=segment, customer_ids=data.customer_ids)
        return _out(pipeline, session, [segment])[0]


@router.post("/{segment_id}/members/import", response_model=StaticImportOut)
def import_members(request: Request, actor: ActorDep, segment_id: IdPath, file: UploadFile | None = File(None)):
    """Add customers to a static segment from a CSV of identities (columns kind, value, optional namespace)."""
    with unit_of_work(request) as session:
        segment = service.get(session, actor=actor, segment_id=segment_id)
        if file is None:
            raise Invalid("upload a CSV file with columns kind, value (and namespace)", field="file")
        data = file.file.read()
        found: list[int] = []
        unmatched: list[int] = []
        for count, (line, row) in enumerate(read_rows(data, required={"kind", "value"},
                                                      known={"kind", "value", "namespace"}), start=1):
            if count > MAX_IMPORT_ROWS:
                raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per file", field="file")
            try:
                identity = IdentityIn(kind=row["kind"], value=row["value"], namespace=row.get("namespace", ""))
                ids = customers_service.match(session, actor=actor, identities_in=[identity])
            except (ValueError, Invalid):
                ids = []
            if ids:
                found.append(ids[0])
            else:
                unmatched.append(line)
        added = service.add_static(session, actor=actor, segment=segment, customer_ids=found) if found else 0
        return StaticImportOut(added=added, matched=len(found), unmatched_lines=unmatched[:1000])
