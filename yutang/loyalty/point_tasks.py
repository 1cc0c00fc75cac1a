"""Point tasks with proof: a customer submits an image and a note, operators approve (points awarded once) or
reject with a reason; the same picture submitted again (perceptual hash, across customers) is flagged."""

import hashlib
import io
import os
from pathlib import Path

import imagehash
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.loyalty import ledger, points, tiers
from yutang.loyalty.models import PointTask, TaskSubmission
from yutang.loyalty.schemas import PointTaskIn, ReviewIn
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

MAX_IMAGE_BYTES = 8 * 1024 * 1024
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# Hamming distance between 64-bit pHashes at or under which two pictures count as the same (re-encoded,
# resized or lightly cropped screenshots stay within it; different screenshots differ by far more).
SAME_PICTURE = 8


def create_task(session: Session, *, actor: Actor, data: PointTaskIn) -> PointTask:
    """Add a point task."""
    actor.require(Permission.BULK)
    task = PointTask(workspace_id=actor.workspace_id, **data.model_dump())
    session.add(task)
    session.flush()
    workspaces_service.record(session, actor=actor, action="point_task.created", entity_type="point_task",
                              entity_id=task.id, changes=data.model_dump())
    return task


def list_tasks(session: Session, *, actor: Actor) -> list[PointTask]:
    """The workspace's tasks, newest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(PointTask).where(PointTask.workspace_id == actor.workspace_id)
                                .order_by(PointTask.id.desc())))


def get_task(session: Session, *, actor: Actor, task_id: int) -> PointTask:
    """One task of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, PointTask, task_id, workspace_id=actor.workspace_id, what="point task",
                            field="task_id")


def fingerprint(data: bytes) -> tuple[str, str, str]:
    """(sha256, perceptual hash as hex, file extension) of an image; Invalid naming the field if it is not one."""
    if not data:
        raise Invalid("the image is empty", field="image")
    if len(data) > MAX_IMAGE_BYTES:
        raise Invalid(f"the image is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MB", field="image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            phash = str(imagehash.phash(image.convert("RGB")))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("not a readable image (JPEG, PNG, WebP or GIF)", field="image") from exc
    if kind not in FORMATS:
        raise Invalid(f"{kind} images are not accepted; send JPEG, PNG, WebP or GIF", field="image")
    return hashlib.sha256(data).hexdigest(), phash, FORMATS[kind]


def _store(directory: Path, sha: str, ext: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{sha}.{ext}"
    if not path.exists():  # content-addressed: the same bytes are stored once
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)
    return path


def _duplicate_of(session: Session, workspace_id: int, sha: str, phash: str) -> int | None:
    target = imagehash.hex_to_hash(phash)
    rows = session.execute(select(TaskSubmission.id, TaskSubmission.image_sha256, TaskSubmission.image_hash)
                           .where(TaskSubmission.workspace_id == workspace_id,
                                  TaskSubmission.image_hash.is_not(None)).order_by(TaskSubmission.id))
    for submission_id, other_sha, other_hash in rows:
        if other_sha == sha or target - imagehash.hex_to_hash(other_hash) <= SAME_PICTURE:
            return submission_id
    return None


def submit(session: Session, *, actor: Actor, task_id: int, customer_id: int, note: str, image: bytes,
           store_dir: Path) -> TaskSubmission:
    """A customer's proof for a task; flagged when the same picture was submitted before (by anyone)."""
    actor.require(Permission.WRITE)
    task = get_task(session, actor=actor, task_id=task_id)
    if not task.active:
        raise Conflict("this task is not active", field="task_id")
    if len(note) > 2000:
        raise Invalid("the note is longer than 2000 characters", field="note")
    customer_id = points.resolve_customer(session, actor=actor, customer_id=customer_id)
    used = session.scalar(select(func.count()).select_from(TaskSubmission).where(
        TaskSubmission.task_id == task.id, TaskSubmission.customer_id == customer_id,
        TaskSubmission.status.in_(["pending", "approved"])))
    if used >= task.per_customer_limit:
        raise Conflict(f"the customer has reached this task's limit of {task.per_customer_limit}",
                       field="customer_id")
    sha, phash, ext = fingerprint(image)
    path = _store(store_dir / "loyalty-proofs" / str(actor.workspace_id), sha, ext, image)
    submission = TaskSubmission(workspace_id=actor.workspace_id, task_id=task.id, customer_id=customer_id, note=note,
                                image_path=str(path), image_sha256=sha, image_hash=phash,
                                duplicate_of_id=_duplicate_of(session, actor.workspace_id, sha, phash))
    session.add(submission)
    session.flush()
    return submission


def queue(session: Session, *, actor: Actor, status: str | None = "pending", before_id: int | None = None,
          limit: int = 50) -> list[TaskSubmission]:
    """Submissions to review (oldest pending first), or all of one status newest first."""
    actor.require(Permission.READ)
    query = select(TaskSubmission).where(TaskSubmission.workspace_id == actor.workspace_id)
    if status:
        query = query.where(TaskSubmission.status == status)
    if before_id is not None:
        query = query.where(TaskSubmission.id < before_id)
    return list(session.scalars(query.order_by(TaskSubmission.id.desc()).limit(limit)))


def get_submission(session: Session, *, actor: Actor, submission_id: int) -> TaskSubmission:
    """One submission of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, TaskSubmission, submission_id, workspace_id=actor.workspace_id,
                            what="submission", field="submission_id")


def review(session: Session, *, actor: Actor, submission_id: int, data: ReviewIn) -> TaskSubmission:
    """Approve (points awarded once, key task:<id>) or reject with a reason; repeating the decision is harmless."""
    actor.require(Permission.BULK)
    submission = session.scalar(select(TaskSubmission).where(TaskSubmission.id == submission_id,
                                                             TaskSubmission.workspace_id == actor.workspace_id)
                                .with_for_update().execution_options(populate_existing=True))
    if submission is None:
        get_submission(session, actor=actor, submission_id=submission_id)  # raises NotFound naming the field
    decision = "approved" if data.approve else "rejected"
    if submission.status != "pending":
        if submission.status == decision:
            return submission
        raise Conflict(f"the submission was already {submission.status}", field="submission_id")
    task = session.get(PointTask, submission.task_id)
    submission.status, submission.reason = decision, data.reason
    submission.reviewed_by, submission.reviewed_at = actor.member_id, utcnow()
    if data.approve:
        entry, created = points.earn(session, actor=actor, customer_id=submission.customer_id, points=task.points,
                                     key=ledger.system_key("task", submission.id), reason=task.name, source_type="task",
                                     source_ref=str(submission.id))
        if created:
            tiers.evaluate(session, actor=actor, customer_id=entry.customer_id)
    workspaces_service.record(session, actor=actor, action=f"task_submission.{decision}",
                              entity_type="task_submission", entity_id=submission.id,
                              changes={"reason": data.reason, "task_id": task.id, "points": task.points})
    session.flush()
    return submission


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """A merged customer's submissions go to the winner."""
    return session.execute(update(TaskSubmission).where(TaskSubmission.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount or 0


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's submissions for a data-subject export."""
    return [{"id": s.id, "task_id": s.task_id, "note": s.note, "status": s.status, "reason": s.reason,
             "image_sha256": s.image_sha256, "at": s.created_at.isoformat()}
            for s in session.scalars(select(TaskSubmission).where(TaskSubmission.customer_id == customer_id)
                                     .order_by(TaskSubmission.id))]


def erase(session: Session, *, customer_id: int) -> None:
    """Blank notes and delete proof images of the customer (hashes stay, so a re-submission is still flagged)."""
    rows = list(session.scalars(select(TaskSubmission).where(TaskSubmission.customer_id == customer_id)))
    paths = {row.image_path for row in rows if row.image_path}
    for row in rows:
        row.note, row.image_path = "", None
    session.flush()
    for path in paths:
        still_used = session.scalar(select(func.count()).select_from(TaskSubmission)
                                    .where(TaskSubmission.image_path == path))
        if not still_used:
            Path(path).unlink(missing_ok=True)
