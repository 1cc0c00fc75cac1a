"""A fake of api.weixin.qq.com: access token, Official Account template messages, mini-program subscribe messages.

Errcodes as documented: 40013 invalid appid, 40125 invalid appsecret, 40014 / 42001 bad or expired token,
40003 invalid openid, 40037 invalid template_id, 43004 require subscribe (not following the account),
43101 user refused the subscribe message, 47003 argument invalid, 45009 API frequency limit.
"""

import secrets
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def err(code: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": f"{message} rid: {secrets.token_hex(6)}"})


@dataclass
class FakeWeChat:
    appid: str = "wx" + "0123456789abcdef"
    secret: str = "app-secret-" + "y" * 21
    followers: set[str] = field(default_factory=set)  # openids following the Official Account
    known: set[str] = field(default_factory=set)  # openids of this appid (followers or not)
    subscribed: dict[str, set[str]] = field(default_factory=dict)  # openid -> template ids accepted (mini program)
    templates: set[str] = field(default_factory=set)
    sent: list[dict] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        async def token(request: Request):
            q = request.query_params
            if q.get("appid") != self.appid:
                return err(40013, "invalid appid")
            if q.get("secret") != self.secret:
                return err(40125, "invalid appsecret")
            value = secrets.token_urlsafe(24)
            self.tokens[value] = time.time() + 7200
            return JSONResponse({"access_token": value, "expires_in": 7200})

        def checked(kind: str):
            async def endpoint(request: Request):
                t = request.query_params.get("access_token", "")
                if t not in self.tokens:
                    return err(40014, "invalid access_token")
                if self.tokens[t] < time.time():
                    return err(42001, "access_token expired")
                if self.fail_next:
                    return err(self.fail_next.pop(0), "api freq out of limit")
                body = await request.json()
                touser = body.get("touser", "")
                if touser not in self.known:
                    return err(40003, "invalid openid")
                if body.get("template_id") not in self.templates:
                    return err(40037, "invalid template_id")
                data = body.get("data")
                if not isinstance(data, dict) or any(not isinstance(v, dict) or "value" not in v
                                                     for v in data.values()):
                    return err(47003, "argument invalid! data.value invalid")
                if kind == "template":
                    if touser not in self.followers:
                        return err(43004, "require subscribe")
                    if any(s.get("client_msg_id") and s.get("client_msg_id") == body.get("client_msg_id")
                           for s in self.sent):
                        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": 0})
                elif body["template_id"] not in self.subscribed.get(touser, set()):
                    return err(43101, "user refuse to accept the msg")
                else:
                    self.subscribed[touser].discard(body["template_id"])  # one acceptance, one message
                self.sent.append({"kind": kind, **body})
                return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent) + 100_000})
            return endpoint

        return Starlette(routes=[
            Route("/cgi-bin/token", token),
            Route("/cgi-bin/message/template/send", checked("template"), methods=["POST"]),
            Route("/cgi-bin/message/subscribe/send", checked("subscribe"), methods=["POST"]),
        ])
