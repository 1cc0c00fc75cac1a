"""Channel adapters, one module per channel, all behind adapters.base.ChannelAdapter; build() makes one from a
channel configuration's settings and secrets."""

from typing import Any

from yutang.messaging.adapters.base import ChannelAdapter, NullAdapter
from yutang.messaging.adapters.email import SmtpAdapter
from yutang.messaging.adapters.sms import HttpSmsAdapter
from yutang.messaging.adapters.webhook import WebhookAdapter
from yutang.messaging.adapters.wechat import DEFAULT_BASE_URL as WECHAT_URL
from yutang.messaging.adapters.wechat import WeChatClient
from yutang.messaging.adapters.wecom import DEFAULT_BASE_URL as WECOM_URL
from yutang.messaging.adapters.wecom import WeComClient

KINDS = ("wecom", "wechat_oa", "wechat_mp", "email", "sms", "webhook", "null")


def build(kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> ChannelAdapter:
    """The adapter for a channel configuration (settings are public, secrets never leave the server)."""
    if kind == "wecom":
        return WeComClient(corp_id=settings["corp_id"], secret=secrets["corp_secret"],
                           base_url=settings.get("base_url") or WECOM_URL, sender=settings.get("sender"))
    if kind in ("wechat_oa", "wechat_mp"):
        return WeChatClient(appid=settings["appid"], secret=secrets["app_secret"],
                            mode="template" if kind == "wechat_oa" else "subscribe",
                            base_url=settings.get("base_url") or WECHAT_URL)
    if kind == "email":
        return SmtpAdapter(host=settings["host"], port=int(settings.get("port", 25)), sender=settings["sender"],
                           username=settings.get("username"), password=secrets.get("password"),
                           starttls=bool(settings.get("starttls")), use_ssl=bool(settings.get("ssl")))
    if kind == "sms":
        return HttpSmsAdapter(url=settings["url"], api_key=secrets["api_key"],
                              sign_name=settings.get("sign_name", ""), status_url=settings.get("status_url"))
    if kind == "webhook":
        return WebhookAdapter(url=settings["url"], secret=secrets["secret"])
    if kind == "null":
        return NullAdapter()
    raise ValueError(f"unknown channel kind {kind!r}")
