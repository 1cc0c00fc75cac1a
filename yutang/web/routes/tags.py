"""The tags page: tag groups with how many customers carry each tag."""

from fastapi import APIRouter, Request

from yutang.tags import service as tags_service
from yutang.web.deps import ConsoleRoute, console

router = APIRouter(route_class=ConsoleRoute)


@router.get("/tags")
def tag_list(request: Request, q: str = ""):
    """Tag groups and their tags with customer counts; q filters by name."""
    with console(request) as page:
        groups = tags_service.list_groups(page.session, actor=page.actor, q=q.strip() or None)
        return page.render("tags/list.html", groups=groups, q=q)
