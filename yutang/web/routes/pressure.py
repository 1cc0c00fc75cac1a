"""The contact-pressure rules (owners): caps per channel kind and window, quiet hours, the WeCom monthly cap."""

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.journeys import service as journeys_service
from yutang.kit.errors import DomainError
from yutang.messaging import broadcasts
from yutang.messaging.schemas import ChannelKind, PressureIn
from yutang.web.deps import ConsoleRoute, Page, console, form_errors
from yutang.web.i18n import N_
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
HERE = "/console/settings/pressure"
BLANK_ROWS = 2
PATTERNS = {"name": N_("Use lower-case letters, digits and underscores, e.g. marketing_week."),
            "quiet_start": N_("Enter a time as HH:MM."), "quiet_end": N_("Enter a time as HH:MM.")}
DOMAIN = {"quiet_end": N_("Give both a start and an end, or leave both empty."),
          "caps": N_("Each cap needs a name of its own.")}


def _render(page: Page, *, form: dict, errors: dict | None = None, saved: bool = False, status: int = 200):
    return page.render("settings/pressure.html", status=status, form=form, errors=errors or {}, saved=saved,
                       kinds=[k for k in ChannelKind if k is not ChannelKind.NULL])


def _form_of(rules) -> dict:
    caps = [{"name": c.name, "limit": str(c.limit), "window_days": str(c.window_days),
             "channel_kind": c.channel_kind.value if c.channel_kind else ""} for c in rules.caps]
    return {"caps": caps + [{} for _ in range(BLANK_ROWS)], "quiet_start": rules.quiet_start or "",
            "quiet_end": rules.quiet_end or "",
            "wecom_group_sends_per_month": "" if rules.wecom_group_sends_per_month is None
            else str(rules.wecom_group_sends_per_month), "holdout_bp": _percent(rules.holdout_bp)}


def _percent(bp: int) -> str:
    return f"{bp // 100}" if bp % 100 == 0 else f"{bp / 100:.2f}".rstrip("0")


def _bp(text: str) -> int | str:
    """A percentage typed as 5 or 2.5 as basis points; what does not read as one is passed on for the field's error."""
    try:
        value = Decimal(text or "0") * 100
    except InvalidOperation:
        return text
    return int(value) if value == value.to_integral_value() else text


@router.get("/settings/pressure")
def pressure_page(request: Request, saved: bool = False):
    """The rules in force, as a form."""
    with console(request, read_only=True) as page:
        page.actor.require(Permission.ADMIN)
        return _render(page, form=_form_of(broadcasts.get_pressure(page.session, actor=page.actor)), saved=saved)


@router.post("/settings/pressure")
def pressure_save(request: Request, cap_name: Annotated[list[str] | None, Form()] = None,
                  cap_limit: Annotated[list[str] | None, Form()] = None,
                  cap_window: Annotated[list[str] | None, Form()] = None,
                  cap_channel: Annotated[list[str] | None, Form()] = None, quiet_start: Annotated[str, Form()] = "",
                  quiet_end: Annotated[str, Form()] = "", wecom_monthly: Annotated[str, Form()] = "",
                  holdout: Annotated[str, Form()] = ""):
    """Replace the rules; a row left empty is dropped, errors come back beside their fields."""
    rows = [{"name": n.strip(), "limit": lim.strip(), "window_days": w.strip(), "channel_kind": k}
            for n, lim, w, k in zip(cap_name or [], cap_limit or [], cap_window or [], cap_channel or [], strict=False)]
    rows = [r for r in rows if r["name"] or r["limit"] or r["window_days"]]
    form = {"caps": rows + [{} for _ in range(BLANK_ROWS)], "quiet_start": quiet_start.strip(),
            "quiet_end": quiet_end.strip(), "wecom_group_sends_per_month": wecom_monthly.strip(),
            "holdout_bp": holdout.strip()}
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        try:
            with page.session.begin_nested():
                broadcasts.set_pressure(page.session, actor=page.actor, data=PressureIn(
                    caps=[{**r, "channel_kind": r["channel_kind"] or None} for r in rows],
                    quiet_start=form["quiet_start"] or None, quiet_end=form["quiet_end"] or None,
                    wecom_group_sends_per_month=form["wecom_group_sends_per_month"] or None,
                    holdout_bp=_bp(form["holdout_bp"])), experiments=lambda: (
                        journeys_service.running_experiments(page.session, actor=page.actor)))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("caps", "quiet_start", "quiet_end",
                                                            "wecom_group_sends_per_month", "holdout_bp"),
                                 nested=True, patterns=PATTERNS, domain=DOMAIN)
            return _render(page, form=form, errors=errors, status=422)
        return RedirectResponse(f"{HERE}?saved=1", status_code=303)
