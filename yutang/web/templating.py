"""Jinja2 rendering: one Environment per locale with its gettext installed, and the console's filters."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from yutang.kit.money import fen_to_yuan_text
from yutang.web.i18n import FIELD_LABELS, HTML_LANG, LABELS

TEMPLATES = Path(__file__).parent / "templates"


def money(fen: int | None, currency: str = "CNY") -> str:
    """Fen as money text: 1230 -> '¥12.30', 1234500 -> '¥12,345.00'; other currencies show their code."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, _, cents = fen_to_yuan_text(abs(fen)).partition(".")
    amount = f"{int(whole):,}.{cents}"
    return f"{sign}¥{amount}" if currency == "CNY" else f"{sign}{currency} {amount}"


@pass_context
def local_time(context, value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime (or its ISO text, as JSON columns keep it) as wall time in the workspace's zone (the `tz`
    in the template context)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(context.get("tz") or "Asia/Shanghai")).strftime(fmt)


class Templates:
    """The console's templates, rendered in the request's language."""

    def __init__(self, translations: dict[str, Translations], *, assets_ok: bool):
        self.assets_ok = assets_ok
        self.environments = {locale: self._environment(t) for locale, t in translations.items()}

    @staticmethod
    def _environment(translations: Translations) -> Environment:
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(translations, newstyle=True)
        env.filters["money"] = money
        env.filters["local_time"] = local_time
        env.filters["label"] = lambda value: translations.gettext(LABELS[value]) if value in LABELS else value
        env.filters["field"] = lambda value: (translations.gettext(FIELD_LABELS[value]) if value in FIELD_LABELS
                                              else value)
        return env

    def render(self, request: Request, name: str, *, locale: str, status: int = 200,
               headers: dict | None = None, **context) -> HTMLResponse:
        """Render a template to an HTML response in the locale."""
        template = self.environments[locale].get_template(name)
        html = template.render(request=request, locale=locale, html_lang=HTML_LANG[locale],
                               assets_ok=self.assets_ok, **context)
        return HTMLResponse(html, status_code=status, headers=headers)
