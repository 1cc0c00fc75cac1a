"""A fake of WeCom's customer-contact API (qyapi.weixin.qq.com/cgi-bin/…) and of its encrypted callbacks.

It keeps the documented JSON shapes and errcodes: 40001 bad corp secret, 41001 no token, 40014 invalid token,
42001 expired token, 45009 API frequency limit, 40096 invalid external userid, 84061 not an external contact of
the member, 40068 invalid tag id, 40071 tag name exists, 41048 no recipient could be sent to (all capped or not
contacts), 40058 invalid parameter. The callback encryption here is written independently of Yutang's.
"""

import base64
import hashlib
import os
import secrets
import struct
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MESSAGES = {45009: "api freq out of limit", 45033: "api concurrent out of limit", -1: "system busy"}


def ok(**data) -> JSONResponse:
    return JSONResponse({"errcode": 0, "errmsg": "ok", **data})


def err(code: int, message: str, **data) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": f"{message}, hint: [{secrets.token_hex(6)}]", **data})


@dataclass
class FakeWeCom:
    corp_id: str = "ww" + "a1b2c3d4e5f60718"
    secret: str = "corp-secret-" + "x" * 20
    # staff userid -> list of (external contact dict, follow_info dict)
    contacts: dict[str, list[tuple[dict, dict]]] = field(default_factory=dict)
    groups: list[dict] = field(default_factory=list)
    marks: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    templates: dict[str, dict] = field(default_factory=dict)
    welcome_codes: dict[str, str | None] = field(default_factory=dict)  # code -> text sent (None = unused)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch)
    token_requests: int = 0
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path suffix -> errcodes to answer next
    group_sends_per_customer: dict[str, int] = field(default_factory=dict)
    monthly_cap: int = 4

    def add_contact(self, staff: str, external_userid: str, name: str, *, unionid: str = "", state: str = "",
                    tag_ids: tuple[str, ...] = ()) -> None:
        self.contacts.setdefault(staff, []).append((
            {"external_userid": external_userid, "name": name, "type": 1, "gender": 2, "unionid": unionid},
            {"userid": staff, "remark": "", "createtime": 1_700_000_000, "tag_id": list(tag_ids), "state": state,
             "add_way": 1}))

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    def is_contact(self, external_userid: str, staff: str | None = None) -> bool:
        staffs = [staff] if staff else list(self.contacts)
        return any(c["external_userid"] == external_userid for s in staffs for c, _ in self.contacts.get(s, []))

    def confirm(self, msgid: str, *, status: int = 1) -> None:
        """The staff member confirmed the group send in the WeCom app (status 1 sent, 2 not a friend)."""
        for row in self.templates[msgid]["results"]:
            if row["status"] == 0:
                row["status"], row["send_time"] = status, int(time.time())

    def app(self) -> Starlette:
        def guarded(path: str, handler):
            async def endpoint(request: Request):
                for suffix, codes in self.fail_next.items():
                    if path.endswith(suffix) and codes:
                        code = codes.pop(0)
                        return err(code, MESSAGES.get(code, "error"))
                token = request.query_params.get("access_token")
                if not token:
                    return err(41001, "access_token missing")
                if token not in self.tokens:
                    return err(40014, "invalid access_token")
                if self.tokens[token] < time.time():
                    return err(42001, "access_token expired")
                return await handler(await request.json())
            return Route(path, endpoint, methods=["POST"])

        async def gettoken(request: Request):
            self.token_requests += 1
            q = request.query_params
            if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.secret:
                return err(40001, "invalid credential")
            token = secrets.token_urlsafe(24)
            self.tokens[token] = time.time() + 7200
            return ok(access_token=token, expires_in=7200)

        async def get_by_user(body):
            users = body.get("userid_list") or []
            limit = int(body.get("limit") or 50)
            if not 1 <= len(users) <= 100 or limit > 100:
                return err(40058, "invalid userid_list or limit")
            rows = [row for user in users for row in self.contacts.get(user, [])]
            start = int(body.get("cursor") or 0)
            page = rows[start:start + limit]
            nxt = str(start + limit) if start + limit < len(rows) else ""
            return ok(external_contact_list=[{"external_contact": c, "follow_info": f} for c, f in page],
                      next_cursor=nxt)

        async def get_corp_tag_list(body):
            return ok(tag_group=self.groups)

        async def add_corp_tag(body):
            names = [t["name"] for t in body.get("tag", [])]
            if not names:
                return err(40058, "tag is empty")
            group = next((g for g in self.groups if g["group_id"] == body.get("group_id")
                          or g["group_name"] == body.get("group_name")), None)
            if body.get("group_id") and group is None:
                return err(40068, "invalid tagid")
            if group is None:
                group = {"group_id": "et" + secrets.token_hex(8), "group_name": body["group_name"],
                         "create_time": int(time.time()), "order": 0, "tag": []}
                self.groups.append(group)
            if any(t["name"] in names for t in group["tag"]):
                return err(40071, "UserTag Name Already Exist")
            created = [{"id": "et" + secrets.token_hex(8), "name": n, "create_time": int(time.time()), "order": 0}
                       for n in names]
            group["tag"].extend(created)
            return ok(tag_group={**{k: v for k, v in group.items() if k != "tag"}, "tag": created})

        async def mark_tag(body):
            external, staff = body.get("external_userid", ""), body.get("userid", "")
            if not external.startswith("wm"):
                return err(40096, "invalid external userid")
            if not self.is_contact(external, staff):
                return err(84061, "not external contact")
            known = {t["id"] for g in self.groups for t in g["tag"]}
            if any(t not in known for t in body.get("add_tag", []) + body.get("remove_tag", [])):
                return err(40068, "invalid tagid")
            marks = self.marks.setdefault((staff, external), set())
            marks.update(body.get("add_tag", []))
            marks.difference_update(body.get("remove_tag", []))
            return ok()

        async def add_msg_template(body):
            if body.get("chat_type", "single") != "single" or len(body.get("attachments", [])) > 9:
                return err(40058, "invalid chat_type or too many attachments")
            if not (body.get("text", {}).get("content") or body.get("attachments")):
                return err(40058, "text and attachments are both empty")
            targets = body.get("external_userid") or []
            if any(not t.startswith("wm") for t in targets):
                return err(40096, "invalid external userid")
            sender = body.get("sender")
            fail, results = [], []
            for external in targets:
                if not self.is_contact(external, sender) or \
                        self.group_sends_per_customer.get(external, 0) >= self.monthly_cap:
                    fail.append(external)
                    continue
                self.group_sends_per_customer[external] = self.group_sends_per_customer.get(external, 0) + 1
                results.append({"external_userid": external, "userid": sender or "", "status": 0})
            if targets and not results:
                return err(41048, "no available external contact to send", fail_list=fail)
            msgid = "msg" + secrets.token_hex(8)
            self.templates[msgid] = {"body": body, "results": results}
            return ok(fail_list=fail, msgid=msgid)

        async def send_result(body):
            template = self.templates.get(body.get("msgid", ""))
            if template is None:
                return err(40058, "invalid msgid")
            rows = [r for r in template["results"] if r["userid"] == body.get("userid")]
            start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 500)
            nxt = str(start + limit) if start + limit < len(rows) else ""
            return ok(send_list=rows[start:start + limit], next_cursor=nxt)

        async def send_welcome_msg(body):
            code = body.get("welcome_code", "")
            if code not in self.welcome_codes or self.welcome_codes[code] is not None:
                return err(40058, "invalid welcome_code")
            self.welcome_codes[code] = body.get("text", {}).get("content", "")
            return ok()

        base = "/cgi-bin/externalcontact"
        return Starlette(routes=[
            Route("/cgi-bin/gettoken", gettoken),
            guarded(f"{base}/batch/get_by_user", get_by_user),
            guarded(f"{base}/get_corp_tag_list", get_corp_tag_list),
            guarded(f"{base}/add_corp_tag", add_corp_tag),
            guarded(f"{base}/mark_tag", mark_tag),
            guarded(f"{base}/add_msg_template", add_msg_template),
            guarded(f"{base}/get_groupmsg_send_result", send_result),
            guarded(f"{base}/send_welcome_msg", send_welcome_msg),
        ])


class CallbackSigner:
    """Encrypts and signs callbacks the way WeCom's servers do (written apart from Yutang's implementation)."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str):
        self.token, self.corp_id = token, corp_id
        self.key = base64.b64decode(encoding_aes_key + "=")

    def encrypt(self, text: str) -> str:
        raw = text.encode("utf-8")
        plain = os.urandom(16) + struct.pack("!I", len(raw)) + raw + self.corp_id.encode()
        padder = padding.PKCS7(256).padder()
        padded = padder.update(plain) + padder.finalize()
        enc = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(enc.update(padded) + enc.finalize()).decode()

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return hashlib.sha1("".join(sorted([self.token, timestamp, nonce, encrypted])).encode()).hexdigest()

    def url_check(self, echo: str) -> dict:
        """Query parameters of the GET WeCom sends to verify a callback URL."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        encrypted = self.encrypt(echo)
        return {"msg_signature": self.sign(timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce,
                "echostr": encrypted}

    def post(self, inner_xml: str, *, at: float | None = None) -> tuple[dict, str]:
        """(query parameters, body) of an encrypted event POST, stamped now or at the epoch seconds given."""
        timestamp, nonce = str(int(time.time() if at is None else at)), secrets.token_hex(5)
        encrypted = self.encrypt(inner_xml)
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
        return {"msg_signature": self.sign(timestamp, nonce, encrypted), "timestamp": timestamp,
                "nonce": nonce}, body


def contact_event(corp_id: str, change: str, *, staff: str, external_userid: str, state: str = "",
                  welcome_code: str = "") -> str:
    """The decrypted XML of a change_external_contact event."""
    extra = f"<State><![CDATA[{state}]]></State>" if state else ""
    extra += f"<WelcomeCode><![CDATA[{welcome_code}]]></WelcomeCode>" if welcome_code else ""
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>"
            f"<UserID><![CDATA[{staff}]]></UserID><ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>"
            f"{extra}</xml>")


def text_message(corp_id: str, *, external_userid: str, content: str, msg_id: str) -> str:
    """The decrypted XML of an inbound text message from an external contact."""
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{external_userid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")
