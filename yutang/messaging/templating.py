"""Personalisation in a sandboxed Jinja2: only whitelisted variables, no attribute tricks, errors name the field.

Variables: name, city (from the customer), tier, points, coupon_code (from providers: loyalty registers one;
by default they are empty).
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from yutang.kit.errors import Invalid

VARIABLES = ("name", "city", "tier", "points", "coupon_code")
DEFAULTS: dict[str, Any] = {"tier": "", "points": "", "coupon_code": ""}
URL = re.compile(r"https?://[^\s<>\"'，。）)]+")

# (session, workspace id, customer ids) -> {customer id: {variable: value}}; only whitelisted keys are used.
VariableProvider = Callable[[Session, int, list[int]], dict[int, dict[str, Any]]]
_providers: list[VariableProvider] = []

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def register_provider(provider: VariableProvider) -> None:
    """Add a source of variables (e.g. loyalty's tier, points, coupon code); later providers win."""
    if provider not in _providers:
        _providers.append(provider)


def provided(session: Session, *, workspace_id: int, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The providers' variables for the customers (whitelisted keys only, defaults filled in)."""
    given: dict[int, dict[str, Any]] = {}
    wanted = set(customer_ids)
    for provider in _providers:
        for cid, values in provider(session, workspace_id, customer_ids).items():
            if cid in wanted:
                given.setdefault(cid, dict(DEFAULTS)).update({k: v for k, v in values.items() if k in DEFAULTS})
    # Customers no provider spoke for share one defaults dict (read-only for callers).
    return {cid: given.get(cid, DEFAULTS) for cid in customer_ids}


@lru_cache(maxsize=512)
def _compile(source: str):
    return _env.from_string(source)


def check(source: str | None, *, field: str) -> None:
    """Raise Invalid (naming the field) for a syntax error or a variable outside the whitelist."""
    if not source:
        return
    try:
        names = meta.find_undeclared_variables(_env.parse(source))
    except TemplateError as exc:
        raise Invalid(f"template error: {exc}", field=field) from exc
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        raise Invalid(f"unknown variable {unknown[0]!r}; allowed: {', '.join(VARIABLES)}", field=field)


def render(source: str | None, variables: dict[str, Any], *, field: str = "body") -> str | None:
    """Render one text in the sandbox."""
    if source is None or "{" not in source:
        return source
    try:
        return _compile(source).render(variables)
    except TemplateError as exc:  # includes the sandbox's SecurityError
        raise Invalid(f"template error: {exc}", field=field) from exc


def render_payload(value: Any, variables: dict[str, Any], *, field: str = "payload") -> Any:
    """Render every string inside a payload (WeChat data values, urls, SMS params …)."""
    if isinstance(value, str):
        return render(value, variables, field=field)
    if isinstance(value, dict):
        return {k: render_payload(v, variables, field=f"{field}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_payload(v, variables, field=f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def check_payload(value: Any, *, field: str = "payload") -> None:
    """check() every string inside a payload."""
    if isinstance(value, str):
        check(value, field=field)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_payload(v, field=f"{field}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_payload(v, field=f"{field}[{i}]")
