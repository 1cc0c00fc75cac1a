"""Group pages: customer groups with their health, one group's members, group QR codes."""

from fastapi import APIRouter, Request

from yutang.groups import service as groups_service
from yutang.web.deps import ConsoleRoute, console

router = APIRouter(route_class=ConsoleRoute)


@router.get("/groups")
def group_list(request: Request, silent: bool = False):
    """Live groups with members, joins, quits, talk and the silent flag; silent ones first."""
    with console(request, read_only=True) as page:
        health = groups_service.group_health(page.session, actor=page.actor, silent_only=silent)
        health.sort(key=lambda h: (not h.silent, h.name))
        owners = groups_service.owner_health(page.session, actor=page.actor)
        return page.render("groups/groups.html", health=health, owners=owners, silent=silent)


@router.get("/groups/codes")
def code_list(request: Request):
    """Group QR codes with their groups, state, joins and quits."""
    with console(request, read_only=True) as page:
        session, actor = page.session, page.actor
        codes = groups_service.list_codes(session, actor=actor)
        names = {g.chat_id: g.name for g, _ in groups_service.list_groups(session, actor=actor,
                                                                           include_dismissed=True)}
        stats = {c.id: groups_service.code_stats(session, actor=actor, code_id=c.id) for c in codes}
        return page.render("groups/codes.html", codes=codes, names=names, stats=stats)


@router.get("/groups/{group_id}")
def group_detail(request: Request, group_id: int):
    """One group: owner, notice, health and members."""
    with console(request, read_only=True) as page:
        session, actor = page.session, page.actor
        group, count = groups_service.group_with_count(session, actor=actor, group_id=group_id)
        health = groups_service.group_health(session, actor=actor, group_ids=[group.id])
        members = groups_service.members_of(session, actor=actor, group_id=group.id, current=False)
        return page.render("groups/group.html", group=group, count=count, health=health[0] if health else None,
                           members=members)
