"""WeChat Official Account template messages and mini-program subscribe messages (api.weixin.qq.com)."""

import threading
import time

import httpx

from yutang.messaging.adapters.base import ChannelError, CheckResult, Outbound, SendResult

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_INVALID = {40001, 40014, 42001}
RETRYABLE = {-1, 45009, 45047}


class WeChatClient:
    """One appid's API with a cached access token; `mode` is 'template' (公众号) or 'subscribe' (小程序)."""

    def __init__(self, *, appid: str, secret: str, mode: str = "template", base_url: str = DEFAULT_BASE_URL,
                 http: httpx.Client | None = None, timeout: float = 10.0):
        if mode not in ("template", "subscribe"):
            raise ValueError("mode is 'template' or 'subscribe'")
        self.kind = "wechat_oa" if mode == "template" else "wechat_mp"
        self.appid = appid
        self.secret = secret
        self.mode = mode
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def check(self) -> CheckResult:
        """Ask for a fresh access token with the appid and secret."""
        try:
            self.access_token(refresh=True)
        except ChannelError as exc:
            return exc.checked()
        except ValueError:
            return CheckResult.failed("http_200", "answer is not JSON")
        return CheckResult(ok=True)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, self.base_url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise ChannelError("network", str(exc), retryable=True) from exc
        if response.status_code >= 500:
            raise ChannelError(f"http_{response.status_code}", response.text[:200], retryable=True)
        data = response.json()
        code = int(data.get("errcode", 0))
        if code:
            raise ChannelError(code, data.get("errmsg", ""), retryable=code in RETRYABLE)
        return data

    def access_token(self, *, refresh: bool = False) -> str:
        """The cached access token (client_credential grant)."""
        with self._lock:
            if refresh or not self._token or time.monotonic() >= self._expires:
                data = self._call("GET", "/cgi-bin/token", params={"grant_type": "client_credential",
                                                                  "appid": self.appid, "secret": self.secret})
                self._token = data["access_token"]
                self._expires = time.monotonic() + int(data.get("expires_in", 7200)) - 300
            return self._token

    def api(self, path: str, body: dict) -> dict:
        """POST with the token; a refused token is renewed once."""
        try:
            return self._call("POST", path, params={"access_token": self.access_token()}, json=body)
        except ChannelError as exc:
            if not exc.code.isdigit() or int(exc.code) not in TOKEN_INVALID:
                raise
            return self._call("POST", path, params={"access_token": self.access_token(refresh=True)}, json=body)

    def body_for(self, message: Outbound) -> tuple[str, dict]:
        """The API path and JSON body for a message (data values as {key: {value}})."""
        p = message.payload
        if not p.get("template_id"):
            raise ChannelError("template_id", "a WeChat message needs its template_id")
        data = {key: {"value": str(value)} for key, value in (p.get("data") or {}).items()}
        body = {"touser": message.address, "template_id": p["template_id"], "data": data}
        if self.mode == "template":
            if p.get("url"):
                body["url"] = p["url"]
            if p.get("miniprogram"):
                body["miniprogram"] = {"appid": p["miniprogram"]["appid"],
                                       "pagepath": p["miniprogram"].get("pagepath", "")}
            body["client_msg_id"] = f"yutang-{message.message_id}"  # WeChat drops a repeated id (idempotent retry)
            return "/cgi-bin/message/template/send", body
        if p.get("page"):
            body["page"] = p["page"]
        for key in ("miniprogram_state", "lang"):
            if p.get(key):
                body[key] = p[key]
        return "/cgi-bin/message/subscribe/send", body

    def send(self, message: Outbound) -> SendResult:
        """Send a template (OA) or subscribe (mini program) message."""
        try:
            path, body = self.body_for(message)
            data = self.api(path, body)
        except ChannelError as exc:
            return exc.result()
        return SendResult.sent(str(data.get("msgid", "")) or None)
