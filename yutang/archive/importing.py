"""Import customers from CSV through the OneID upsert; each row commits or fails alone."""

from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from yutang.archive import service as archive_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
from yutang.kit.clock import parse_local
from yutang.kit.errors import DomainError, Invalid
from yutang.kit.tabular import read_records
from yutang.orders.schemas import ImportErrorOut, ImportReport
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagRef
from yutang.workspaces.access import Actor, Permission

# Column -> identity kind; documented in docs/imports.md.
IDENTITY_COLUMNS = {
    "phone": IdentityKind.PHONE,
    "email": IdentityKind.EMAIL,
    "wechat_unionid": IdentityKind.WECHAT_UNIONID,
    "wechat_openid": IdentityKind.WECHAT_OPENID,
    "wecom_external_userid": IdentityKind.WECOM_EXTERNAL_USERID,
    "app_user_id": IdentityKind.APP_USER_ID,
}
PROFILE_COLUMNS = {"name", "gender", "birthday", "province", "city"}
OTHER_COLUMNS = {"wechat_appid", "channel", "campaign", "tags", "first_seen_at", "external_id"}
CUSTOMER_COLUMNS = set(IDENTITY_COLUMNS) | PROFILE_COLUMNS | OTHER_COLUMNS


def customer_from_row(row: dict[str, str], *, timezone: str) -> tuple[CustomerIn, list[str]]:
    """Build the upsert for one CSV row, with the column each identity came from; errors name the column."""
    identities, columns = [], []
    for column, kind in IDENTITY_COLUMNS.items():
        if column in row:
            namespace = row.get("wechat_appid", "") if kind is IdentityKind.WECHAT_OPENID else ""
            if kind is IdentityKind.WECHAT_OPENID and not namespace:
                raise Invalid("wechat_openid needs the wechat_appid column", field="wechat_appid")
            identities.append(IdentityIn(kind=kind, value=row[column], namespace=namespace))
            columns.append(column)
    if not identities:
        raise Invalid("a row needs at least one identity column", field="phone")
    fields: dict = {k: row[k] for k in PROFILE_COLUMNS if k in row}
    if "birthday" in fields:
        try:
            fields["birthday"] = date.fromisoformat(fields["birthday"].replace("/", "-"))
        except ValueError as exc:
            raise Invalid(f"not a date: {fields['birthday']!r}", field="birthday") from exc
    first_seen = None
    if "first_seen_at" in row:
        try:
            first_seen = parse_local(row["first_seen_at"], assume_zone=timezone)
        except ValueError as exc:
            raise Invalid(f"not a time: {row['first_seen_at']!r}", field="first_seen_at") from exc
    attributes = {"external_id": row["external_id"]} if "external_id" in row else None
    try:
        customer = CustomerIn(identities=identities, first_channel=row.get("channel"),
                              source_campaign=row.get("campaign"), first_seen_at=first_seen, attributes=attributes,
                              **fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(error["msg"], field=str(error["loc"][0]) if error["loc"] else "row") from exc
    return customer, columns


def tag_refs(text: str) -> list[TagRef]:
    """'Group/Tag;Group/Tag' to tag references."""
    refs = []
    for item in filter(None, (part.strip() for part in text.replace("；", ";").split(";"))):
        group, sep, name = item.partition("/")
        if not sep or not group.strip() or not name.strip():
            raise Invalid(f"tags are written Group/Tag, got {item!r}", field="tags")
        refs.append(TagRef(group=group.strip(), name=name.strip()))
    return refs


def import_customers_csv(session: Session, *, actor: Actor, data: bytes) -> ImportReport:
    """Upsert each row by its identities; a bad row is reported with line and field, the rest import."""
    actor.require(Permission.BULK)
    report = ImportReport()
    for record in read_records(data, required=set(), known=CUSTOMER_COLUMNS):
        line, row = record.line, record.cells
        if record.error is not None:  # a broken quote or a surplus cell fails this row only
            report.errors.append(ImportErrorOut(line=line, field=record.error.errors[0].field,
                                                message=record.error.detail))
            continue
        savepoint = session.begin_nested()
        columns: list[str] = []
        try:
            customer_in, columns = customer_from_row(row, timezone=actor.timezone)
            customer, outcome, _ = archive_service.upsert_customer(session, actor=actor, data=customer_in,
                                                                   merge_reason="import linked identities")
            changed = outcome != "unchanged"
            if "tags" in row:
                tags = tags_service.resolve(session, actor=actor, refs=tag_refs(row["tags"]), create_missing=True,
                                            field="tags")
                added, _ = tags_service.apply(session, actor=actor, customer_ids=[customer.id], add=tags, remove=[],
                                              source="import")
                changed = changed or added > 0
            savepoint.commit()
        except DomainError as exc:
            savepoint.rollback()
            first = exc.errors[0] if exc.errors else None
            field = first.field if first else "row"
            report.errors.append(ImportErrorOut(line=line, field=_column(field, columns),
                                                message=first.message if first else exc.detail))
            continue
        if outcome == "created":
            report.created += 1
            report.customers_created += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _column(field: str, columns: list[str]) -> str:
    # The upsert speaks of identities[i]; the person fixing the file thinks in columns.
    if field.startswith("identities[") and columns:
        index = int(field[len("identities["):].split("]")[0])
        return columns[index] if index < len(columns) else field
    return field
