"""Channel adapters in the console (owners): a form per kind, secrets write-only, a connection test per adapter."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from yutang.kit.errors import Conflict, DomainError, Invalid
from yutang.messaging import flows, service
from yutang.messaging.schemas import ChannelConfigIn, ChannelConfigPatch
from yutang.web.deps import ConsoleRoute, Page, console, database, form_errors, is_htmx
from yutang.web.errors import REQUIRED
from yutang.web.i18n import N_
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
HERE = "/console/settings/adapters"


@dataclass(frozen=True)
class Field:
    """One input of a kind's form: where its value is kept (settings or write-only secrets) and how it is typed."""

    key: str
    label: str
    secret: bool = False
    required: bool = False
    type: str = "text"  # text, url, email, number, checkbox
    hint: str = ""


FORMS: dict[str, tuple[Field, ...]] = {
    "wecom": (Field("corp_id", N_("Corp ID (corpid)"), required=True),
              Field("corp_secret", N_("Customer contact secret"), secret=True, required=True),
              Field("sender", N_("Default sending staff (userid)")),
              Field("callback_token", N_("Callback token"), secret=True),
              Field("encoding_aes_key", N_("Callback EncodingAESKey"), secret=True, hint=N_("43 characters.")),
              Field("base_url", N_("API address"), type="url", hint=N_("Leave empty for qyapi.weixin.qq.com."))),
    "wechat_oa": (Field("appid", N_("AppID"), required=True),
                  Field("app_secret", N_("AppSecret"), secret=True, required=True),
                  Field("base_url", N_("API address"), type="url", hint=N_("Leave empty for api.weixin.qq.com."))),
    "email": (Field("host", N_("SMTP server"), required=True),
              Field("port", N_("Port"), type="number", hint=N_("25, 465 (SSL) or 587 (STARTTLS).")),
              Field("sender", N_("Sender address"), type="email", required=True),
              Field("username", N_("User name")), Field("password", N_("Password"), secret=True),
              Field("starttls", N_("Use STARTTLS"), type="checkbox"), Field("ssl", N_("Use SSL"), type="checkbox")),
    "sms": (Field("url", N_("Send URL"), type="url", required=True),
            Field("api_key", N_("API key"), secret=True, required=True),
            Field("sign_name", N_("SMS signature")),
            Field("status_url", N_("Status URL"), type="url",
                  hint=N_("Leave empty for the send URL's sibling /status."))),
    "webhook": (Field("url", N_("Endpoint URL"), type="url", required=True),
                Field("secret", N_("Signing secret"), secret=True, required=True, hint=N_("Starts with whsec_."))),
}
FORMS["wechat_mp"] = FORMS["wechat_oa"]
# Domain refusals on a form field, in words (the service speaks to API callers).
REFUSALS = {"secret": N_("A signing secret starts with whsec_ followed by base64."),
            "encoding_aes_key": N_("The EncodingAESKey is 43 characters."),
            "port": N_("Enter a port from 1 to 65535.")}
# Peers' error codes, in words. WeCom and WeChat errcodes from their global error code pages; SMTP reply codes
# (RFC 5321 / 4954); the HTTP SMS provider's codes from adapters/sms.py.
PEER_CODES = {
    "wecom": {"40001": N_("The secret is wrong or belongs to another app."),
              "40013": N_("The corp ID is not valid."), "40056": N_("The agent ID is not valid."),
              "60020": N_("This server's IP address is not on the app's trusted IP list."),
              "48002": N_("The API is not allowed for this secret: use the customer contact secret."),
              "-1": N_("WeCom is busy; try again in a moment."),
              "45009": N_("The API call limit is reached; try again later.")},
    "wechat": {"40001": N_("The AppSecret is wrong or the access token is not valid."),
               "40013": N_("The AppID is not valid."), "40125": N_("The AppSecret is not valid."),
               "40164": N_("This server's IP address is not on the account's IP whitelist."),
               "-1": N_("WeChat is busy; try again in a moment.")},
    "email": {"535": N_("The user name or password was refused."),
              "530": N_("The server wants a login (and perhaps STARTTLS) first."),
              "534": N_("The server wants a stronger login (an app password)."),
              "421": N_("The server is not taking connections now; try again later."),
              "not_supported": N_("The server does not offer what is asked (STARTTLS or login).")},
    "sms": {"UNAUTHORIZED": N_("The provider refused the API key."),
            "INSUFFICIENT_BALANCE": N_("The SMS account has no balance left.")},
}
NETWORK = N_("Could not reach the server: check the address and port, and that this server may connect out.")
HTTP = N_("The server answered HTTP %(status)s.")


def peer_words(kind: str, code: str | None, gettext) -> str:
    """A connection test's error code in the operator's words."""
    family = "wechat" if kind.startswith("wechat") else kind
    if code == "network":
        return gettext(NETWORK)
    if code in PEER_CODES.get(family, {}):
        return gettext(PEER_CODES[family][code])
    if code and code.startswith("http_"):
        return gettext(HTTP) % {"status": code[5:]}
    return ""


def _listing(page: Page, **extra) -> dict:
    page.actor.require(Permission.ADMIN)
    configs = [service.present_channel(page.session, c) for c in service.list_channels(page.session, actor=page.actor)]
    return {"configs": configs, "forms": FORMS, "kinds": list(FORMS), "checks": {}} | extra


@router.get("/settings/adapters")
def adapter_list(request: Request):
    """Configured adapters (secrets masked) with a connection test each, and links to add one per kind."""
    with console(request, read_only=True) as page:
        return page.render("settings/adapters.html", **_listing(page))


def _values(kind: str, form: FormData) -> tuple[dict, dict]:
    settings: dict = {}
    secrets: dict = {}
    for field in FORMS[kind]:
        raw = form.get(field.key)
        if field.type == "checkbox":
            settings[field.key] = raw is not None
        elif field.secret:
            if raw and str(raw).strip():
                secrets[field.key] = str(raw).strip()
        elif raw is not None and str(raw).strip():
            value = str(raw).strip()
            settings[field.key] = int(value) if field.type == "number" and value.isdigit() else value
    return settings, secrets


def _errors(page: Page, exc: ValidationError | DomainError) -> dict[str, str]:
    if isinstance(exc, Conflict) and any(e.field == "name" for e in exc.errors):
        return {"name": page.gettext(N_("This name is taken already."))}
    if isinstance(exc, Invalid) and exc.errors:
        key = (exc.errors[0].field or "").split(".")[-1]
        if key:
            return {key: page.gettext(REFUSALS.get(key, REQUIRED))}
    return form_errors(exc, page.gettext, fields=("name", "kind"))


def _editor(page: Page, kind: str, *, config=None, values: dict | None = None, errors: dict | None = None,
            status: int = 200):
    page.actor.require(Permission.ADMIN)
    return page.render("settings/adapter_form.html", status=status, kind=kind, fields=FORMS[kind], config=config,
                       values=values if values is not None else (dict(config.settings) | {"name": config.name}
                                                                 if config else {"port": 25} if kind == "email"
                                                                 else {}),
                       secrets_set=set(config.secrets_set) if config else set(), errors=errors or {})


@router.get("/settings/adapters/new")
def adapter_new(request: Request, kind: str = "email"):
    """The form for a new adapter of one kind."""
    with console(request, read_only=True) as page:
        if kind not in FORMS:
            raise Invalid(page.gettext(N_("Choose one of the options.")), field="kind")
        return _editor(page, kind)


@router.post("/settings/adapters")
async def adapter_create(request: Request):
    """Add an adapter from its kind's form; errors come back beside their fields."""
    form = await request.form()
    kind, name = str(form.get("kind", "")), str(form.get("name", "")).strip()
    with console(request) as page:
        if kind not in FORMS:
            raise Invalid(page.gettext(N_("Choose one of the options.")), field="kind")
        settings, secrets = _values(kind, form)
        try:
            with page.session.begin_nested():
                config = service.create_channel(page.session, actor=page.actor, data=ChannelConfigIn(
                    kind=kind, name=name, settings=settings, secrets=secrets))
        except (ValidationError, DomainError) as exc:
            return _editor(page, kind, values=settings | {"name": name}, errors=_errors(page, exc), status=422)
        return RedirectResponse(f"{HERE}#adapter-{config.id}", status_code=303)


@router.get("/settings/adapters/{config_id}")
def adapter_edit(request: Request, config_id: int):
    """An adapter's form: settings shown, secrets only as set or not."""
    with console(request, read_only=True) as page:
        config = service.present_channel(page.session, service.get_channel(page.session, actor=page.actor,
                                                                           config_id=config_id))
        if config.kind not in FORMS:
            raise Invalid(page.gettext(N_("This adapter has nothing to configure.")), field="config_id")
        return _editor(page, config.kind, config=config)


@router.post("/settings/adapters/{config_id}")
async def adapter_update(request: Request, config_id: int):
    """Save an adapter's settings; a secret left empty keeps the stored one."""
    form = await request.form()
    with console(request) as page:
        page.actor.require(Permission.ADMIN)
        stored = service.get_channel(page.session, actor=page.actor, config_id=config_id)
        if stored.kind not in FORMS:
            raise Invalid(page.gettext(N_("This adapter has nothing to configure.")), field="config_id")
        settings, secrets = _values(stored.kind, form)
        cleared = {f.key: "" for f in FORMS[stored.kind]
                   if not f.secret and f.type != "number" and f.key not in settings}
        try:
            with page.session.begin_nested():
                service.update_channel(page.session, actor=page.actor, config_id=config_id, data=ChannelConfigPatch(
                    settings=settings | cleared, secrets=secrets or None,
                    enabled=form.get("enabled") is not None))
        except (ValidationError, DomainError) as exc:
            config = service.present_channel(page.session, stored)
            return _editor(page, stored.kind, config=config, values=settings | {"name": stored.name},
                           errors=_errors(page, exc), status=422)
        return RedirectResponse(f"{HERE}#adapter-{config_id}", status_code=303)


@router.post("/settings/adapters/{config_id}/check")
def adapter_check(request: Request, config_id: int):
    """Test the adapter against its peer and show what it answered, in words."""
    with console(request, read_only=True) as page:
        actor, gettext = page.actor, page.gettext
        config = service.get_channel(page.session, actor=actor, config_id=config_id)
        kind = config.kind
    result = flows.check_channel(database(request).factory, actor=actor, config_id=config_id)
    check = {"ok": result.ok, "code": result.code, "message": result.message,
             "words": "" if result.ok else peer_words(kind, result.code, gettext)}
    with console(request, read_only=True) as page:
        if is_htmx(request):
            return page.render("settings/_check.html", config_id=config_id, check=check)
        return page.render("settings/adapters.html", **_listing(page, checks={config_id: check}))
