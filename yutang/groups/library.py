"""The library of materials and scripts (素材库 / 话术库): folders, materials with tags, a use record per staff
member and customer or group, and the report of which material leads to replies and orders."""

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.groups.models import GroupChat, GroupMember, LibraryFolder, Material, MaterialUse
from yutang.groups.schemas import FolderIn, MaterialIn, MaterialPatch, UseIn, UseReportOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.messaging import service as messaging_service
from yutang.orders import service as orders_service
from yutang.storage.scoped import get_in_workspace
from yutang.stores import service as stores_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

# The report's windows: a reply counts when the customer writes in within a day of a use, an order when it is
# paid within a week.
REPLY_WITHIN = timedelta(hours=24)
ORDER_WITHIN = timedelta(days=7)
# What each kind of material needs besides its title.
NEEDS = {"text": ("text",), "image": ("image_url",), "link": ("url",), "product": ("url", "price_fen"),
         "miniprogram": ("appid", "page")}


def create_folder(session: Session, *, actor: Actor, data: FolderIn) -> LibraryFolder:
    """A new folder; names are unique in the workspace."""
    actor.require(Permission.MANAGE)
    if session.scalar(select(LibraryFolder.id).where(LibraryFolder.workspace_id == actor.workspace_id,
                                                     LibraryFolder.name == data.name)) is not None:
        raise Conflict(f"a folder named {data.name!r} exists", field="name")
    folder = LibraryFolder(workspace_id=actor.workspace_id, name=data.name, position=data.position)
    session.add(folder)
    session.flush()
    workspaces_service.record(session, actor=actor, action="library_folder.created", entity_type="library_folder",
                              entity_id=folder.id, changes={"name": data.name})
    return folder


def get_folder(session: Session, *, actor: Actor, folder_id: int, field: str = "folder_id") -> LibraryFolder:
    """A folder of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, LibraryFolder, folder_id, workspace_id=actor.workspace_id, what="folder",
                            field=field)


def list_folders(session: Session, *, actor: Actor) -> list[tuple[LibraryFolder, int]]:
    """Folders in their order, each with its count of live materials."""
    actor.require(Permission.READ)
    counts = (select(Material.folder_id, func.count().label("n")).where(
        Material.workspace_id == actor.workspace_id, Material.archived_at.is_(None))
        .group_by(Material.folder_id).subquery())
    return [(f, n or 0) for f, n in session.execute(
        select(LibraryFolder, counts.c.n).outerjoin(counts, counts.c.folder_id == LibraryFolder.id)
        .where(LibraryFolder.workspace_id == actor.workspace_id)
        .order_by(LibraryFolder.position, LibraryFolder.name))]


def delete_folder(session: Session, *, actor: Actor, folder_id: int) -> None:
    """Remove an empty folder (a folder with live materials is refused)."""
    actor.require(Permission.MANAGE)
    folder = get_folder(session, actor=actor, folder_id=folder_id)
    if session.scalar(select(func.count()).where(Material.folder_id == folder.id,
                                                 Material.archived_at.is_(None))):
        raise Conflict("the folder still holds materials: move or archive them first", field="folder_id")
    session.delete(folder)
    workspaces_service.record(session, actor=actor, action="library_folder.deleted", entity_type="library_folder",
                              entity_id=folder_id, changes={})


def _check(values: dict) -> None:
    for field in NEEDS[values["kind"]]:
        if values.get(field) is None:
            raise Invalid(f"a {values['kind']} material needs {field}", field=field)


def create_material(session: Session, *, actor: Actor, data: MaterialIn) -> Material:
    """A new material in a folder (or none), checked for what its kind needs."""
    actor.require(Permission.MANAGE)
    values = data.model_dump()
    _check(values)
    if data.folder_id is not None:
        get_folder(session, actor=actor, folder_id=data.folder_id)
    values["tags"] = list(dict.fromkeys(data.tags))
    material = Material(workspace_id=actor.workspace_id, by_member_id=actor.member_id, **values)
    session.add(material)
    session.flush()
    workspaces_service.record(session, actor=actor, action="material.created", entity_type="material",
                              entity_id=material.id, changes={"kind": data.kind, "title": data.title})
    return material


def get_material(session: Session, *, actor: Actor, material_id: int, field: str = "material_id") -> Material:
    """A material of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Material, material_id, workspace_id=actor.workspace_id, what="material",
                            field=field)


def update_material(session: Session, *, actor: Actor, material_id: int, data: MaterialPatch) -> Material:
    """Change a material; what its kind needs must stay."""
    actor.require(Permission.MANAGE)
    material = get_material(session, actor=actor, material_id=material_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("folder_id") is not None:
        get_folder(session, actor=actor, folder_id=changes["folder_id"])
    values = {c: getattr(material, c) for c in ("kind", "text", "url", "image_url", "price_fen", "appid", "page")}
    _check(values | changes)
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))
    for name, value in changes.items():
        setattr(material, name, value)
    workspaces_service.record(session, actor=actor, action="material.updated", entity_type="material",
                              entity_id=material.id, changes=data.changes())
    return material


def archive_material(session: Session, *, actor: Actor, material_id: int) -> Material:
    """Take a material out of the pickers; its uses and report stay."""
    actor.require(Permission.MANAGE)
    material = get_material(session, actor=actor, material_id=material_id)
    if material.archived_at is None:
        material.archived_at = utcnow()
        workspaces_service.record(session, actor=actor, action="material.archived", entity_type="material",
                                  entity_id=material.id, changes={})
    return material


def list_materials(session: Session, *, actor: Actor, folder_id: int | None = None, kind: str | None = None,
                   tag: str | None = None, search: str | None = None, archived: bool = False,
                   limit: int = 200) -> list[Material]:
    """Materials by folder, kind, tag or words in the title or text; live ones unless `archived`."""
    actor.require(Permission.READ)
    query = select(Material).where(Material.workspace_id == actor.workspace_id)
    query = query.where(Material.archived_at.is_not(None) if archived else Material.archived_at.is_(None))
    if folder_id is not None:
        query = query.where(Material.folder_id == folder_id)
    if kind:
        query = query.where(Material.kind == kind)
    if search:
        like = f"%{search}%"
        query = query.where(or_(Material.title.like(like), Material.text.like(like)))
    rows = list(session.scalars(query.order_by(Material.folder_id, Material.title, Material.id)))
    if tag:
        rows = [m for m in rows if tag in (m.tags or [])]
    return rows[:limit]


def as_text(material: Material, field: str = "material_id") -> str:
    """What a material says in a text message: the script, or a link's or product card's title and URL; images
    and mini-program cards need WeCom media and cannot go as text."""
    if material.kind in ("image", "miniprogram"):
        raise Invalid(f"a {material.kind} material needs a WeCom attachment, which this send takes no part of: "
                      "choose a text script, a link or a product card", field=field)
    if material.kind == "text":
        return material.text or material.title
    return f"{headline(material)}\n{material.url}"


def headline(material: Material) -> str:
    """A material's own words: its text, or its title with the price of a product card (in yuan)."""
    price = f" ¥{material.price_fen / 100:.2f}" if material.price_fen is not None else ""
    return material.text or f"{material.title}{price}"


def usable(session: Session, *, actor: Actor, material_id: int, field: str = "material_id") -> Material:
    """A live material for a send (an archived one is refused)."""
    material = get_material(session, actor=actor, material_id=material_id, field=field)
    if material.archived_at is not None:
        raise Conflict("this material was archived", field=field)
    return material


def _staff_id(session: Session, actor: Actor, staff_id: int | None) -> int | None:
    if staff_id is not None:
        return stores_service.get_staff(session, actor=actor, staff_id=staff_id).id
    if actor.member_id is None:
        return None
    me = stores_service.staff_of_member(session, workspace_id=actor.workspace_id, member_id=actor.member_id)
    return me.id if me else None


def record_uses(session: Session, *, actor: Actor, material_id: int, data: UseIn,
                at: datetime | None = None) -> int:
    """Write one use per customer and per group (one with neither for a Moments post); returns how many."""
    actor.require(Permission.WRITE)
    material = get_material(session, actor=actor, material_id=material_id)
    staff_id = _staff_id(session, actor, data.staff_id)
    customer_ids = list(dict.fromkeys(data.customer_ids))
    if customer_ids:
        seen = {c.id for c in customers_service.visible_by_id(session, actor=actor, customer_ids=customer_ids)}
        for index, customer_id in enumerate(customer_ids):
            if customer_id not in seen:
                raise NotFound("no such customer", field=f"customer_ids[{index}]")
    group_ids = list(dict.fromkeys(data.group_ids))
    for index, group_id in enumerate(group_ids):
        get_in_workspace(session, GroupChat, group_id, workspace_id=actor.workspace_id, what="group",
                         field=f"group_ids[{index}]")
    at = at or utcnow()
    targets = [(c, None) for c in customer_ids] + [(None, g) for g in group_ids] or [(None, None)]
    session.add_all([MaterialUse(workspace_id=actor.workspace_id, material_id=material.id, staff_id=staff_id,
                                 customer_id=c, group_id=g, channel=data.channel, used_at=at) for c, g in targets])
    session.flush()
    return len(targets)


def _reached(session: Session, uses: list[MaterialUse]) -> dict[int, list[int]]:
    """Per use, the customers it reached: its customer, or the group's members at the time."""
    reached = {u.id: [u.customer_id] for u in uses if u.customer_id is not None}
    by_group: dict[int, list[MaterialUse]] = defaultdict(list)
    for use in uses:
        if use.group_id is not None:
            by_group[use.group_id].append(use)
    for start in range(0, len(by_group), 500):
        ids = list(by_group)[start:start + 500]
        for group_id, customer_id, joined, left in session.execute(
                select(GroupMember.group_id, GroupMember.customer_id, GroupMember.joined_at, GroupMember.left_at)
                .where(GroupMember.group_id.in_(ids), GroupMember.customer_id.is_not(None))):
            for use in by_group[group_id]:
                if (joined is None or joined <= use.used_at) and (left is None or left > use.used_at):
                    reached.setdefault(use.id, []).append(customer_id)
    return reached


def _within(times: list[datetime], at: datetime, window: timedelta) -> int | None:
    index = bisect_left(times, at)
    return index if index < len(times) and times[index] < at + window else None


def use_report(session: Session, *, actor: Actor, since: datetime, until: datetime | None = None,
               material_id: int | None = None, staff_id: int | None = None) -> list[UseReportOut]:
    """Per material and staff member, uses in [since, until) and what followed: customers who wrote in within
    REPLY_WITHIN of a use to them, and customers reached who paid an order within ORDER_WITHIN."""
    actor.require(Permission.READ)
    until = until or utcnow()
    query = select(MaterialUse).where(MaterialUse.workspace_id == actor.workspace_id, MaterialUse.used_at >= since,
                                      MaterialUse.used_at < until)
    if material_id is not None:
        query = query.where(MaterialUse.material_id == material_id)
    if staff_id is not None:
        query = query.where(MaterialUse.staff_id == staff_id)
    uses = list(session.scalars(query.order_by(MaterialUse.used_at)))
    reached = _reached(session, uses)
    customers = sorted({c for ids in reached.values() for c in ids})
    inbound = messaging_service.inbound_times(session, workspace_id=actor.workspace_id, customer_ids=customers,
                                              since=since, until=until + REPLY_WITHIN)
    orders = orders_service.paid_times(session, actor=actor, customer_ids=customers, since=since,
                                       until=until + ORDER_WITHIN)
    order_times = {c: [at for at, _ in rows] for c, rows in orders.items()}
    groups: dict[tuple[int, int | None], dict] = {}
    for use in uses:
        row = groups.setdefault((use.material_id, use.staff_id), {"uses": 0, "customers": set(), "replied": set(),
                                                                  "orders": {}})
        row["uses"] += 1
        for customer_id in reached.get(use.id, []):
            row["customers"].add(customer_id)
            if use.customer_id is not None and _within(inbound.get(customer_id, []), use.used_at,
                                                       REPLY_WITHIN) is not None:
                row["replied"].add(customer_id)
            times = order_times.get(customer_id, [])
            index = _within(times, use.used_at, ORDER_WITHIN)
            while index is not None and index < len(times) and times[index] < use.used_at + ORDER_WITHIN:
                row["orders"][(customer_id, index)] = orders[customer_id][index][1]
                index += 1
    materials = {m.id: m for m in session.scalars(select(Material).where(
        Material.id.in_({m for m, _ in groups})))} if groups else {}
    names = {s.id: s.name for s in stores_service.list_staff(session, actor=actor)} if groups else {}
    report = [UseReportOut(material_id=m, title=materials[m].title, kind=materials[m].kind, staff_id=s,
                           staff_name=names.get(s) if s else None, uses=row["uses"], customers=len(row["customers"]),
                           replied=len(row["replied"]), ordered=len({c for c, _ in row["orders"]}),
                           order_fen=sum(row["orders"].values()))
              for (m, s), row in groups.items()]
    return sorted(report, key=lambda r: (-r.ordered, -r.replied, -r.uses, r.material_id, r.staff_id or 0))


def move_uses(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: use records follow the customer."""
    return session.execute(update(MaterialUse).where(MaterialUse.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount


def export_uses(session: Session, *, customer_id: int) -> list[dict]:
    """The materials staff sent a customer."""
    rows = session.execute(select(Material.title, MaterialUse.channel, MaterialUse.used_at)
                           .join(Material, Material.id == MaterialUse.material_id)
                           .where(MaterialUse.customer_id == customer_id).order_by(MaterialUse.id))
    return [{"material": title, "channel": channel, "used_at": at.isoformat()} for title, channel, at in rows]


def erase_uses(session: Session, *, customer_id: int) -> None:
    """Erase: an erased customer's use records go (the material's other uses stay)."""
    for use in session.scalars(select(MaterialUse).where(MaterialUse.customer_id == customer_id)):
        session.delete(use)
