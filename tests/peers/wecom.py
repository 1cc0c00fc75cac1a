"""A fake of WeCom's customer-contact API (qyapi.weixin.qq.com/cgi-bin/…) and of its encrypted callbacks.

It keeps the documented JSON shapes and errcodes: 40001 bad corp secret, 41001 no token, 40014 invalid token,
42001 expired token, 45009 API frequency limit, 40096 invalid external userid, 84061 not an external contact of
the member, 40068 invalid tag id, 40071 tag name exists, 41048 no recipient could be sent to (all capped or not
contacts), 40058 invalid parameter, 60111 unknown member userid (contact ways), 40050 unknown chat id,
86215 a group QR code over more than five groups. Hand-over (transfer_customer and
resigned/…) answers an errcode per customer and, through transfer_result, status 1 taken over, 2 waiting, 3 refused,
4 receiver at its customer limit. A group send (add_msg_template) waits until the sender confirms it in the app:
get_groupmsg_task answers the sender's status (0 unsent, 2 sent) and get_groupmsg_send_result each recipient's (0
unsent, 1 sent, 2 not a contact, 3 already received a group send). With chat_type group the sender is required
(40058) and chat_id_list names the sender's own groups (40050 otherwise; empty: all of them); results are per chat_id.
group_welcome_template/add keeps a group welcome (40058 when empty or over 4000 bytes). add_moment_task answers a
jobid (40058 for empty or over 2000 bytes of text, over 9 attachments, a link without an http(s) URL);
get_moment_task_result (GET) is done at once with the moment_id and the invalid senders and tags; get_moment_task
and get_moment_comments answer per staff member.
get_user_behavior_data answers one row per day of the statistics (40058 for a range over 30 days or no userid,
60111 for an unknown userid).
The callback encryption here is written independently of Yutang's.
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
    welcome_templates: dict[str, dict] = field(default_factory=dict)
    moments: dict[str, dict] = field(default_factory=dict)  # jobid -> {body, moment_id, published, comments, likes}
    welcome_codes: dict[str, str | None] = field(default_factory=dict)  # code -> text sent (None = unused)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch)
    token_requests: int = 0
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path suffix -> errcodes to answer next (0 passes)
    group_sends_per_customer: dict[str, int] = field(default_factory=dict)
    monthly_cap: int = 4
    staff_users: set[str] = field(default_factory=set)  # member userids contact ways may name (empty: any)
    contact_ways: dict[str, dict] = field(default_factory=dict)  # config_id -> the add_contact_way body (+ turn)
    # (handover, takeover) -> external userid -> [status, takeover_time]: 1 done, 2 waiting, 3 refused, 4 limit
    transfers: dict[tuple[str, str], dict[str, list[int]]] = field(default_factory=dict)
    transfer_calls: list[tuple[str, int]] = field(default_factory=list)  # (path, customers) per transfer call
    # (staff userid, local midnight epoch) -> that day's statistics as get_user_behavior_data answers them
    behavior: dict[tuple[str, int], dict] = field(default_factory=dict)
    behavior_calls: list[tuple[tuple[str, ...], int, int]] = field(default_factory=list)
    chats: dict[str, dict] = field(default_factory=dict)  # chat_id -> groupchat/get's group_chat (+ status)
    join_ways: dict[str, dict] = field(default_factory=dict)  # config_id -> the add_join_way body
    # (owner userid, local-midnight epoch) -> groupchat/statistic's data for that owner and day
    statistics: dict[tuple[str, int], dict] = field(default_factory=dict)
    chat_calls: int = 0  # groupchat/get calls

    def add_chat(self, chat_id: str, *, owner: str, name: str, members: list[dict] = (), notice: str = "",
                 admins: tuple[str, ...] = (), created: int = 1_700_000_000) -> dict:
        """A customer group with its owner as the first member; members are groupchat/get member_list rows."""
        owner_row = {"userid": owner, "type": 1, "join_time": created, "join_scene": 1, "invitor": {"userid": owner}}
        chat = {"chat_id": chat_id, "name": name, "owner": owner, "create_time": created, "notice": notice,
                "member_list": [owner_row, *members], "admin_list": [{"userid": a} for a in admins], "status": 0}
        self.chats[chat_id] = chat
        return chat

    def join_chat(self, chat_id: str, userid: str, *, external: bool = True, scene: int = 3, state: str = "",
                  at: int | None = None) -> None:
        """Someone joins a group (scene 1 invited directly, 2 by link, 3 by QR code) with a join way's state."""
        row = {"userid": userid, "type": 2 if external else 1, "join_time": at or int(time.time()),
               "join_scene": scene, "invitor": {"userid": self.chats[chat_id]["owner"]}}
        if external:
            row["unionid"] = ""
        if state:
            row["state"] = state
        self.chats[chat_id]["member_list"].append(row)

    def quit_chat(self, chat_id: str, userid: str) -> None:
        """A member leaves a group."""
        chat = self.chats[chat_id]
        chat["member_list"] = [m for m in chat["member_list"] if m["userid"] != userid]

    def add_contact(self, staff: str, external_userid: str, name: str, *, unionid: str = "", state: str = "",
                    tag_ids: tuple[str, ...] = ()) -> None:
        self.contacts.setdefault(staff, []).append((
            {"external_userid": external_userid, "name": name, "type": 1, "gender": 2, "unionid": unionid},
            {"userid": staff, "remark": "", "createtime": 1_700_000_000, "tag_id": list(tag_ids), "state": state,
             "add_way": 1}))

    def scan(self, config_id: str, external_userid: str, name: str) -> tuple[str, str, str]:
        """A customer scans a contact way's QR code: the next staff member in rotation gains the contact; returns
        (staff userid, state, welcome_code) for the add_external_contact callback."""
        way = self.contact_ways[config_id]
        staff = way["user"][way["turn"] % len(way["user"])]
        way["turn"] += 1
        self.add_contact(staff, external_userid, name, state=way.get("state", ""))
        code = "wc" + secrets.token_hex(8)
        self.welcome_codes[code] = None
        return staff, way.get("state", ""), code

    def settle(self, handover: str, takeover: str, external_userid: str, status: int) -> None:
        """A waiting transfer ends: 1 taken over (the contact moves), 3 the customer refused, 4 receiver at limit."""
        row = self.transfers[(handover, takeover)][external_userid]
        row[0], row[1] = status, int(time.time()) if status == 1 else 0
        if status == 1:
            for contact, follow in list(self.contacts.get(handover, [])):
                if contact["external_userid"] == external_userid:
                    self.contacts[handover].remove((contact, follow))
                    self.contacts.setdefault(takeover, []).append((contact, {**follow, "userid": takeover}))

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    def is_contact(self, external_userid: str, staff: str | None = None) -> bool:
        staffs = [staff] if staff else list(self.contacts)
        return any(c["external_userid"] == external_userid for s in staffs for c, _ in self.contacts.get(s, []))

    def confirm(self, msgid: str, *, status: int = 1, at: int | None = None,
                statuses: dict[str, int] | None = None) -> None:
        """The staff member confirmed the group send in the WeCom app at `at` (epoch; now by default): each recipient
        gets status 1 sent, 2 not a friend or 3 already received a group send (`statuses` per external userid)."""
        at = int(time.time()) if at is None else at
        template = self.templates[msgid]
        template["confirmed"] = at
        for row in template["results"]:
            if row["status"] == 0:
                row["status"] = (statuses or {}).get(row.get("external_userid") or row.get("chat_id"), status)
                row["send_time"] = at

    def publish_moment(self, jobid: str, userid: str, *, comments: int = 0, likes: int = 0) -> None:
        """A staff member published the Moments post in the app, and customers commented and liked it."""
        moment = self.moments[jobid]
        moment["published"].add(userid)
        at = int(time.time())
        moment["comments"][userid] = [{"external_userid": f"wm{n}", "create_time": at} for n in range(comments)]
        moment["likes"][userid] = [{"external_userid": f"wm{n}", "create_time": at} for n in range(likes)]

    def set_behavior(self, staff: str, day_epoch: int, **figures) -> None:
        """That day's statistics of a staff member (chat_cnt, message_cnt, reply_percentage, avg_reply_time,
        negative_feedback_cnt, new_apply_cnt, new_contact_cnt)."""
        self.behavior[(staff, day_epoch)] = figures

    def app(self) -> Starlette:
        def guarded(path: str, handler):
            async def endpoint(request: Request):
                for suffix, codes in self.fail_next.items():
                    if path.endswith(suffix) and codes:
                        code = codes.pop(0)
                        if code:  # 0: let this call through
                            return err(code, MESSAGES.get(code, "error"))
                        break
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
            if body.get("chat_type") == "group":
                return group_msg_template(body)
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

        def group_msg_template(body):
            # A send to customer groups: one sender (the groups' owner), chat_id_list of their groups (≤ 2000).
            sender, chats = body.get("sender") or "", body.get("chat_id_list") or []
            if not sender:
                return err(40058, "sender is required for chat_type group")
            if not (body.get("text", {}).get("content") or body.get("attachments")):
                return err(40058, "text and attachments are both empty")
            if len(chats) > 2000 or len(body.get("attachments", [])) > 9:
                return err(40058, "chat_id_list exceeds 2000 or too many attachments")
            for chat_id in chats:
                chat = self.chats.get(chat_id)
                if chat is None or chat["owner"] != sender:
                    return err(40050, f"invalid chat_id {chat_id}")
            owned = chats or [c for c, chat in self.chats.items() if chat["owner"] == sender]
            msgid = "msg" + secrets.token_hex(8)
            self.templates[msgid] = {"body": body, "results": [{"chat_id": c, "userid": sender, "status": 0}
                                                               for c in owned]}
            return ok(fail_list=[], msgid=msgid)

        async def group_welcome_template_add(body):
            content = (body.get("text") or {}).get("content") or ""
            if not content and not body.get("image") and not body.get("link"):
                return err(40058, "text, image and link are all empty")
            if len(content.encode()) > 4000:
                return err(40058, "text.content exceeds 4000 bytes")
            template_id = "msg" + secrets.token_hex(10)
            self.welcome_templates[template_id] = body
            return ok(template_id=template_id)

        async def add_moment_task(body):
            content = (body.get("text") or {}).get("content") or ""
            attachments = body.get("attachments") or []
            if not content and not attachments:
                return err(40058, "text and attachments are both empty")
            if len(content.encode()) > 2000 or len(attachments) > 9:
                return err(40058, "text.content exceeds 2000 bytes or more than 9 attachments")
            for item in attachments:
                link = item.get("link") or {}
                if item.get("msgtype") == "link" and not (link.get("url") or "").startswith(("http://", "https://")):
                    return err(40058, "invalid link url")
            jobid = "job" + secrets.token_hex(8)
            self.moments[jobid] = {"body": body, "moment_id": "mom" + secrets.token_hex(8), "published": set(),
                                   "comments": {}, "likes": {}}
            return ok(jobid=jobid)

        def moment_by_id(moment_id):
            return next((m for m in self.moments.values() if m["moment_id"] == moment_id), None)

        async def get_moment_task_result(request: Request):
            token = request.query_params.get("access_token")
            if token not in self.tokens:
                return err(40014, "invalid access_token")
            moment = self.moments.get(request.query_params.get("jobid", ""))
            if moment is None:
                return err(40058, "invalid jobid")
            users = moment["body"]["visible_range"].get("sender_list", {}).get("user_list", [])
            invalid = [u for u in users if self.staff_users and u not in self.staff_users]
            tags = moment["body"]["visible_range"].get("external_contact_list", {}).get("tag_list", [])
            known = {t["id"] for g in self.groups for t in g["tag"]}
            return ok(status=3, type="add_moment_task", result={
                "errcode": 0, "errmsg": "ok", "moment_id": moment["moment_id"],
                "invalid_sender_list": {"user_list": invalid, "department_list": []},
                "invalid_external_contact_list": {"tag_list": [t for t in tags if t not in known]}})

        async def get_moment_task(body):
            moment = moment_by_id(body.get("moment_id", ""))
            if moment is None:
                return err(40058, "invalid moment_id")
            users = moment["body"]["visible_range"].get("sender_list", {}).get("user_list", [])
            return ok(task_list=[{"userid": u, "publish_status": int(u in moment["published"])} for u in users],
                      next_cursor="")

        async def get_moment_comments(body):
            moment = moment_by_id(body.get("moment_id", ""))
            if moment is None:
                return err(40058, "invalid moment_id")
            userid = body.get("userid", "")
            return ok(comment_list=moment["comments"].get(userid, []), like_list=moment["likes"].get(userid, []))

        async def send_result(body):
            template = self.templates.get(body.get("msgid", ""))
            if template is None:
                return err(40058, "invalid msgid")
            rows = [r for r in template["results"] if r["userid"] == body.get("userid")]
            start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 500)
            nxt = str(start + limit) if start + limit < len(rows) else ""
            return ok(send_list=rows[start:start + limit], next_cursor=nxt)

        async def groupmsg_task(body):
            template = self.templates.get(body.get("msgid", ""))
            if template is None:
                return err(40058, "invalid msgid")
            sender = template["body"].get("sender", "")
            confirmed = template.get("confirmed")
            row = {"userid": sender, "status": 2 if confirmed else 0}
            if confirmed:
                row["send_time"] = confirmed
            return ok(task_list=[row], next_cursor="")

        async def behavior_data(body):
            users = body.get("userid") or []
            start, end = int(body.get("start_time") or 0), int(body.get("end_time") or 0)
            if not users and not body.get("partyid"):
                return err(40058, "userid and partyid are both empty")
            if not start or end < start or end - start > 30 * 86400:
                return err(40058, "invalid start_time or end_time: the range is at most 30 days")
            if self.staff_users and any(u not in self.staff_users for u in users):
                return err(60111, "invalid userid")
            self.behavior_calls.append((tuple(users), start, end))
            rows = []
            first = start - (start + 8 * 3600) % 86400  # days are China Standard Time days
            for day in range(first, end + 1, 86400):
                figures = {"chat_cnt": 0, "message_cnt": 0, "negative_feedback_cnt": 0, "new_apply_cnt": 0,
                           "new_contact_cnt": 0}
                for user in users:
                    for key, value in self.behavior.get((user, day), {}).items():
                        figures[key] = figures.get(key, 0) + value
                rows.append({"stat_time": day, **figures})
            return ok(behavior_data=rows)

        async def send_welcome_msg(body):
            code = body.get("welcome_code", "")
            if code not in self.welcome_codes or self.welcome_codes[code] is not None:
                return err(40058, "invalid welcome_code")
            self.welcome_codes[code] = body.get("text", {}).get("content", "")
            return ok()

        def check_way(body, *, creating: bool):
            users = body.get("user") or []
            if creating and (body.get("type") not in (1, 2) or body.get("scene") not in (1, 2)):
                return err(40058, "invalid type or scene")
            if not users or (body.get("type") == 1 and len(users) != 1):
                return err(40058, "invalid user: type 1 takes one member")
            if len(body.get("state") or "") > 30:
                return err(40058, "state exceeds 30 characters")
            if self.staff_users and any(u not in self.staff_users for u in users):
                return err(60111, "invalid userid")
            return None

        async def add_contact_way(body):
            refused = check_way(body, creating=True)
            if refused is not None:
                return refused
            config_id = secrets.token_hex(16)
            self.contact_ways[config_id] = {**body, "turn": 0}
            return ok(config_id=config_id, qr_code=f"https://wework.qpic.cn/wwpic/{config_id}/0")

        async def update_contact_way(body):
            way = self.contact_ways.get(body.get("config_id", ""))
            if way is None:
                return err(40058, "invalid config_id")
            refused = check_way({**way, **body}, creating=False)
            if refused is not None:
                return refused
            way.update({k: v for k, v in body.items() if k != "config_id"})
            return ok()

        async def del_contact_way(body):
            if self.contact_ways.pop(body.get("config_id", ""), None) is None:
                return err(40058, "invalid config_id")
            return ok()

        def transfer_customer(path):
            async def handler(body):
                self.transfer_calls.append((path, len(body.get("external_userid") or [])))
                return await transfer(body)
            return handler

        async def transfer(body):
            handover, takeover = body.get("handover_userid", ""), body.get("takeover_userid", "")
            targets = body.get("external_userid") or []
            if not handover or not takeover or not 1 <= len(targets) <= 100:
                return err(40058, "invalid handover_userid, takeover_userid or external_userid (1-100)")
            if len(body.get("transfer_success_msg") or "") > 200:
                return err(40058, "transfer_success_msg exceeds 200 characters")
            rows = self.transfers.setdefault((handover, takeover), {})
            answer = []
            for external in targets:
                if not self.is_contact(external, handover):
                    answer.append({"external_userid": external, "errcode": 84061})
                    continue
                rows[external] = [2, 0]
                answer.append({"external_userid": external, "errcode": 0})
            return ok(customer=answer)

        async def transfer_result(body):
            rows = self.transfers.get((body.get("handover_userid", ""), body.get("takeover_userid", "")), {})
            items = [{"external_userid": e, "status": s, "takeover_time": t} for e, (s, t) in rows.items()]
            start = int(body.get("cursor") or 0)
            nxt = str(start + 100) if start + 100 < len(items) else ""
            return ok(customer=items[start:start + 100], next_cursor=nxt)

        async def get_follow_user_list(request: Request):
            codes = self.fail_next.get("/get_follow_user_list")
            if codes:
                code = codes.pop(0)
                return err(code, MESSAGES.get(code, "error"))
            token = request.query_params.get("access_token")
            if token not in self.tokens or self.tokens[token] < time.time():
                return err(40014, "invalid access_token")
            return ok(follow_user=sorted(self.staff_users | set(self.contacts)))

        async def groupchat_list(body):
            limit = int(body.get("limit") or 0)
            if not 1 <= limit <= 1000:
                return err(40058, "limit must be 1-1000")
            owners = set((body.get("owner_filter") or {}).get("userid_list") or [])
            status = int(body.get("status_filter") or 0)
            rows = [c for c in self.chats.values() if (not owners or c["owner"] in owners)
                    and (status == 0 or c["status"] != 0)]
            start = int(body.get("cursor") or 0)
            page = rows[start:start + limit]
            nxt = str(start + limit) if start + limit < len(rows) else ""
            return ok(group_chat_list=[{"chat_id": c["chat_id"], "status": c["status"]} for c in page],
                      next_cursor=nxt)

        async def groupchat_get(body):
            self.chat_calls += 1
            chat = self.chats.get(body.get("chat_id", ""))
            if chat is None:
                return err(40050, "chatid not exist")
            return ok(group_chat={k: v for k, v in chat.items() if k != "status"})

        async def add_join_way(body):
            chats = body.get("chat_id_list") or []
            if body.get("scene") not in (1, 2):
                return err(40058, "invalid scene")
            if not chats:
                return err(40058, "chat_id_list is empty")
            if len(chats) > 5:
                return err(86215, "chat_id_list exceeds 5")
            if any(c not in self.chats for c in chats):
                return err(40050, "chatid not exist")
            if len(body.get("state") or "") > 30:
                return err(40058, "state exceeds 30 characters")
            config_id = secrets.token_hex(16)
            self.join_ways[config_id] = dict(body)
            return ok(config_id=config_id)

        async def get_join_way(body):
            way = self.join_ways.get(body.get("config_id", ""))
            if way is None:
                return err(40058, "invalid config_id")
            return ok(join_way={"config_id": body["config_id"], **way,
                                "qr_code": f"https://wework.qpic.cn/wwpic/join/{body['config_id']}/0"})

        async def del_join_way(body):
            if self.join_ways.pop(body.get("config_id", ""), None) is None:
                return err(40058, "invalid config_id")
            return ok()

        async def groupchat_statistic(body):
            begin, end = body.get("day_begin_time"), body.get("day_end_time") or body.get("day_begin_time")
            owners = (body.get("owner_filter") or {}).get("userid_list") or []
            if not isinstance(begin, int) or not 1 <= len(owners) <= 100:
                return err(40058, "day_begin_time and owner_filter.userid_list (1-100) are required")
            if end < begin or end - begin > 30 * 86400:
                return err(40058, "the range is at most 30 days")
            fields = ("new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total",
                      "member_has_msg", "msg_total")
            items = []
            for owner in owners:
                days = [d for (o, day), d in self.statistics.items() if o == owner and begin <= day <= end]
                if days:
                    items.append({"owner": owner, "data": {f: sum(d.get(f, 0) for d in days) for f in fields}})
            offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 500)
            page = items[offset:offset + limit]
            return ok(total=len(items), next_offset=offset + len(page), items=page)

        base = "/cgi-bin/externalcontact"
        return Starlette(routes=[
            guarded(f"{base}/groupchat/list", groupchat_list),
            guarded(f"{base}/groupchat/get", groupchat_get),
            guarded(f"{base}/groupchat/add_join_way", add_join_way),
            guarded(f"{base}/groupchat/get_join_way", get_join_way),
            guarded(f"{base}/groupchat/del_join_way", del_join_way),
            guarded(f"{base}/groupchat/statistic", groupchat_statistic),
            Route(f"{base}/get_follow_user_list", get_follow_user_list),
            Route("/cgi-bin/gettoken", gettoken),
            guarded(f"{base}/batch/get_by_user", get_by_user),
            guarded(f"{base}/get_corp_tag_list", get_corp_tag_list),
            guarded(f"{base}/add_corp_tag", add_corp_tag),
            guarded(f"{base}/mark_tag", mark_tag),
            guarded(f"{base}/add_msg_template", add_msg_template),
            guarded(f"{base}/group_welcome_template/add", group_welcome_template_add),
            guarded(f"{base}/add_moment_task", add_moment_task),
            Route(f"{base}/get_moment_task_result", get_moment_task_result),
            guarded(f"{base}/get_moment_task", get_moment_task),
            guarded(f"{base}/get_moment_comments", get_moment_comments),
            guarded(f"{base}/get_groupmsg_send_result", send_result),
            guarded(f"{base}/get_groupmsg_task", groupmsg_task),
            guarded(f"{base}/get_user_behavior_data", behavior_data),
            guarded(f"{base}/send_welcome_msg", send_welcome_msg),
            guarded(f"{base}/add_contact_way", add_contact_way),
            guarded(f"{base}/update_contact_way", update_contact_way),
            guarded(f"{base}/del_contact_way", del_contact_way),
            guarded(f"{base}/transfer_customer", transfer_customer("transfer_customer")),
            guarded(f"{base}/transfer_result", transfer_result),
            guarded(f"{base}/resigned/transfer_customer", transfer_customer("resigned/transfer_customer")),
            guarded(f"{base}/resigned/transfer_result", transfer_result),
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


def chat_event(corp_id: str, change: str, *, chat_id: str, update: str = "", members: tuple[str, ...] = (),
               join_scene: int = 0, quit_scene: int = 0) -> str:
    """The decrypted XML of a change_external_chat event (create / update with UpdateDetail / dismiss)."""
    extra = f"<UpdateDetail><![CDATA[{update}]]></UpdateDetail>" if update else ""
    if join_scene:
        extra += f"<JoinScene>{join_scene}</JoinScene>"
    if quit_scene:
        extra += f"<QuitScene>{quit_scene}</QuitScene>"
    if members:
        extra += f"<MemChangeCnt>{len(members)}</MemChangeCnt>"
    return (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{chat_id}]]></ChatId>"
            f"<ChangeType><![CDATA[{change}]]></ChangeType>{extra}</xml>")
