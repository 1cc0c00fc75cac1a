"""Bulk tagging as the API and the console both take it: listed customers, or all a search matches."""

from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.errors import Invalid
from yutang.tags import service
from yutang.tags.schemas import BulkTaggingIn, BulkTaggingOut
from yutang.workspaces.access import Actor


def bulk_tag(session: Session, *, actor: Actor, data: BulkTaggingIn) -> BulkTaggingOut:
    """Resolve the tags, then add and remove them on the selection in set-based statements."""
    if bool(data.customer_ids) == (data.match is not None):
        raise Invalid("give customer_ids or match, not both and not neither", field="customer_ids")
    add = service.resolve(session, actor=actor, refs=data.add, create_missing=data.create_missing, field="add")
    remove = service.resolve(session, actor=actor, refs=data.remove, field="remove")
    if data.match is None:
        added, removed = service.apply(session, actor=actor, customer_ids=data.customer_ids, add=add, remove=remove)
        return BulkTaggingOut(added=added, removed=removed, customers=len(set(data.customer_ids)))
    criteria = customers_service.Criteria(
        q=data.match.q, channel_id=data.match.channel_id,
        restrict_to=service.customers_with(actor, tag_ids=data.match.tag) if data.match.tag else None)
    count, (added, removed) = service.apply_matching(session, actor=actor, criteria=criteria, add=add, remove=remove)
    return BulkTaggingOut(added=added, removed=removed, customers=count)
