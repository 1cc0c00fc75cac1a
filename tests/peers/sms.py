"""A fake SMS provider speaking the JSON format of yutang.messaging.adapters.sms, with its error answers."""

import re
import secrets
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class FakeSms:
    api_key: str = "sms-key-" + "z" * 16
    templates: set[str] = field(default_factory=lambda: {"SMS_100"})
    blacklist: set[str] = field(default_factory=set)
    sent: list[dict] = field(default_factory=list)
    rate_limited: int = 0  # how many next requests get HTTP 429
    balance: int = 1000

    def app(self) -> Starlette:
        async def send(request: Request):
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse({"code": "UNAUTHORIZED", "message": "bad api key"}, status_code=401)
            if self.rate_limited:
                self.rate_limited -= 1
                return JSONResponse({"code": "RATE_LIMITED", "message": "slow down"}, status_code=429)
            body = await request.json()
            if not E164.match(body.get("to", "")):
                return JSONResponse({"code": "INVALID_PHONE", "message": "not an E.164 number"})
            if body.get("template") not in self.templates:
                return JSONResponse({"code": "TEMPLATE_NOT_APPROVED", "message": "unknown template"})
            if body["to"] in self.blacklist:
                return JSONResponse({"code": "BLACKLISTED", "message": "the number refused messages"})
            message_id = "sms-" + secrets.token_hex(6)
            self.sent.append({**body, "message_id": message_id})
            return JSONResponse({"code": "OK", "message_id": message_id})

        async def status(request: Request):
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse({"code": "UNAUTHORIZED", "message": "bad api key"}, status_code=401)
            return JSONResponse({"code": "OK", "balance": self.balance})

        return Starlette(routes=[Route("/sms/send", send, methods=["POST"]), Route("/sms/status", status)])
