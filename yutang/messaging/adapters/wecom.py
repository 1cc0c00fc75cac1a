"""WeCom customer contact (externalcontact) over its JSON API: token, contacts, corporate tags, group send.

Documented at developer.work.weixin.qq.com (客户联系). Every answer carries errcode/errmsg; 0 is success.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from yutang.messaging.adapters.base import ChannelError, CheckResult, Outbound, SendResult

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
TOKEN_INVALID = {40014, 42001}  # invalid / expired access_token: fetch a new one and retry once
RETRYABLE = {-1, 45009, 45033}  # system busy, API frequency limit, concurrency limit
MAX_ATTACHMENTS = 9
MAX_RECIPIENTS = 10_000


@dataclass(frozen=True)
class Contact:
    """One external contact as batch/get_by_user returns it, with the following staff member's details."""

    external_userid: str
    name: str | None
    unionid: str | None
    gender: int | None
    staff_userid: str
    state: str | None
    tag_ids: tuple[str, ...]
    createtime: int | None


@dataclass(frozen=True)
class CorpTag:
    """A corporate tag in its group."""

    group_id: str
    group_name: str
    tag_id: str
    tag_name: str


class WeComClient:
    """A corp's customer-contact API with an access token cached until it expires."""

    kind = "wecom"

    def __init__(self, *, corp_id: str, secret: str, base_url: str = DEFAULT_BASE_URL, sender: str | None = None,
                 http: httpx.Client | None = None, timeout: float = 10.0):
        self.corp_id = corp_id
        self.secret = secret
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def check(self) -> CheckResult:
        """Ask gettoken for a fresh access token with the corp id and secret."""
        try:
            self.access_token(refresh=True)
        except ChannelError as exc:
            return exc.checked()
        return CheckResult(ok=True)

    # ---- transport --------------------------------------------------------------------------------------

    def access_token(self, *, refresh: bool = False) -> str:
        """The cached access token, fetched with gettoken when missing, expiring (5 min margin) or refused."""
        with self._lock:
            if refresh or not self._token or time.monotonic() >= self._expires:
                data = self._call("GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id,
                                                                     "corpsecret": self.secret})
                self._token = data["access_token"]
                self._expires = time.monotonic() + int(data.get("expires_in", 7200)) - 300
            return self._token

    def _call(self, method: str, path: str, *, params: dict | None = None, json: dict | None = None) -> dict:
        try:
            response = self.http.request(method, self.base_url + path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise ChannelError("network", str(exc), retryable=True) from exc
        if response.status_code >= 500:
            raise ChannelError(f"http_{response.status_code}", response.text[:200], retryable=True)
        try:
            data = response.json()
        except ValueError as exc:
            raise ChannelError(f"http_{response.status_code}", "answer is not JSON") from exc
        code = int(data.get("errcode", 0))
        if code:
            raise ChannelError(code, data.get("errmsg", ""), retryable=code in RETRYABLE)
        return data

    def api(self, path: str, body: dict) -> dict:
        """POST a JSON body to an API path with the token; a refused token is renewed once."""
        try:
            return self._call("POST", path, params={"access_token": self.access_token()}, json=body)
        except ChannelError as exc:
            if not exc.code.lstrip("-").isdigit() or int(exc.code) not in TOKEN_INVALID:
                raise
            return self._call("POST", path, params={"access_token": self.access_token(refresh=True)}, json=body)

    # ---- contacts ---------------------------------------------------------------------------------------

    def contacts_page(self, *, userids: list[str], cursor: str = "", limit: int = 100) -> tuple[list[Contact], str]:
        """One page of batch/get_by_user and the next cursor ('' at the end)."""
        data = self.api("/cgi-bin/externalcontact/batch/get_by_user",
                        {"userid_list": userids, "cursor": cursor, "limit": limit})
        contacts = []
        for item in data.get("external_contact_list", []):
            person, follow = item["external_contact"], item.get("follow_info", {})
            contacts.append(Contact(external_userid=person["external_userid"], name=person.get("name"),
                                    unionid=person.get("unionid") or None, gender=person.get("gender"),
                                    staff_userid=follow.get("userid", ""), state=follow.get("state") or None,
                                    tag_ids=tuple(follow.get("tag_id", [])), createtime=follow.get("createtime")))
        return contacts, data.get("next_cursor", "")

    def contacts(self, *, userids: list[str], limit: int = 100) -> Iterator[Contact]:
        """Every external contact of the staff members, following the cursor to the end."""
        cursor = ""
        while True:
            page, cursor = self.contacts_page(userids=userids, cursor=cursor, limit=limit)
            yield from page
            if not cursor:
                return

    # ---- corporate tags ---------------------------------------------------------------------------------

    def corp_tags(self) -> list[CorpTag]:
        """All corporate tags (get_corp_tag_list), deleted ones left out."""
        data = self.api("/cgi-bin/externalcontact/get_corp_tag_list", {})
        return [CorpTag(group_id=g["group_id"], group_name=g["group_name"], tag_id=t["id"], tag_name=t["name"])
                for g in data.get("tag_group", []) if not g.get("deleted")
                for t in g.get("tag", []) if not t.get("deleted")]

    def add_corp_tags(self, *, group_name: str, names: list[str], group_id: str | None = None) -> list[CorpTag]:
        """Create tags in a group (created with the group when group_id is not given)."""
        body: dict[str, Any] = {"tag": [{"name": n} for n in names]}
        body.update({"group_id": group_id} if group_id else {"group_name": group_name})
        group = self.api("/cgi-bin/externalcontact/add_corp_tag", body)["tag_group"]
        return [CorpTag(group_id=group["group_id"], group_name=group["group_name"], tag_id=t["id"],
                        tag_name=t["name"]) for t in group.get("tag", [])]

    def mark_tag(self, *, staff_userid: str, external_userid: str, add: list[str] = (),
                 remove: list[str] = ()) -> None:
        """Put corporate tags on / take them off a contact as one staff member sees them."""
        self.api("/cgi-bin/externalcontact/mark_tag", {"userid": staff_userid, "external_userid": external_userid,
                                                        "add_tag": list(add), "remove_tag": list(remove)})

    # ---- sending ----------------------------------------------------------------------------------------

    def add_msg_template(self, *, external_userids: list[str], text: str, attachments: list[dict] = (),
                         sender: str | None = None, tag_filter: dict | None = None) -> tuple[str, list[str]]:
        """Create a single-chat group send; returns (msgid, external ids WeCom would not send to)."""
        if len(attachments) > MAX_ATTACHMENTS:
            raise ChannelError("attachments", f"at most {MAX_ATTACHMENTS} attachments")
        if len(external_userids) > MAX_RECIPIENTS:
            raise ChannelError("external_userid", f"at most {MAX_RECIPIENTS} recipients per send")
        body: dict[str, Any] = {"chat_type": "single", "external_userid": list(external_userids),
                                "text": {"content": text}, "attachments": list(attachments)}
        if sender or self.sender:
            body["sender"] = sender or self.sender
        if tag_filter:
            body["tag_filter"] = tag_filter
        data = self.api("/cgi-bin/externalcontact/add_msg_template", body)
        return data.get("msgid", ""), list(data.get("fail_list", []))

    def add_group_msg_template(self, *, sender: str, chat_ids: list[str], text: str) -> str:
        """Create a send to the sender's customer groups (chat_type group), which they confirm in the app; returns
        the msgid."""
        body = {"chat_type": "group", "sender": sender, "chat_id_list": list(chat_ids), "text": {"content": text}}
        return self.api("/cgi-bin/externalcontact/add_msg_template", body).get("msgid", "")

    def add_group_welcome(self, *, text: str, notify: bool = True) -> str:
        """A group welcome (入群欢迎语素材, group_welcome_template/add) owners can set on their groups; returns its
        template_id."""
        body = {"text": {"content": text}, "notify": int(notify)}
        return self.api("/cgi-bin/externalcontact/group_welcome_template/add", body)["template_id"]

    def get(self, path: str, params: dict) -> dict:
        """GET an API path with the token and query parameters; a refused token is renewed once."""
        try:
            return self._call("GET", path, params={"access_token": self.access_token(), **params})
        except ChannelError as exc:
            if not exc.code.lstrip("-").isdigit() or int(exc.code) not in TOKEN_INVALID:
                raise
            return self._call("GET", path, params={"access_token": self.access_token(refresh=True), **params})

    def add_moment_task(self, *, text: str, link: dict | None, userids: list[str], tag_ids: list[str]) -> str:
        """A Moments post (客户朋友圈) for these staff members to publish, seen by customers with these tags (all their
        customers when none); returns the asynchronous job's jobid."""
        body: dict[str, Any] = {"text": {"content": text},
                                "visible_range": {"sender_list": {"user_list": list(userids)}}}
        if link:
            body["attachments"] = [{"msgtype": "link", "link": link}]
        if tag_ids:
            body["visible_range"]["external_contact_list"] = {"tag_list": list(tag_ids)}
        return self.api("/cgi-bin/externalcontact/add_moment_task", body)["jobid"]

    def moment_task_result(self, *, jobid: str) -> dict:
        """get_moment_task_result: status (1 started, 2 working, 3 done) and, when done, result with moment_id and
        the invalid senders and tags."""
        return self.get("/cgi-bin/externalcontact/get_moment_task_result", {"jobid": jobid})

    def moment_publishers(self, *, moment_id: str) -> list[dict]:
        """get_moment_task: per staff member, publish_status 0 not yet, 1 published; across pages."""
        rows, cursor = [], ""
        while True:
            data = self.api("/cgi-bin/externalcontact/get_moment_task",
                            {"moment_id": moment_id, "cursor": cursor, "limit": 1000})
            rows.extend(data.get("task_list", []))
            cursor = data.get("next_cursor", "")
            if not cursor:
                return rows

    def moment_comments(self, *, moment_id: str, userid: str) -> dict:
        """get_moment_comments: the comment_list and like_list one staff member's post received."""
        return self.api("/cgi-bin/externalcontact/get_moment_comments", {"moment_id": moment_id, "userid": userid})

    def send_results(self, *, msgid: str, staff_userid: str) -> Iterator[dict]:
        """Per-recipient results of a group send (get_groupmsg_send_result), across pages."""
        cursor = ""
        while True:
            data = self.api("/cgi-bin/externalcontact/get_groupmsg_send_result",
                            {"msgid": msgid, "userid": staff_userid, "limit": 1000, "cursor": cursor})
            yield from data.get("send_list", [])
            cursor = data.get("next_cursor", "")
            if not cursor:
                return

    def send_task(self, *, msgid: str) -> list[dict]:
        """The senders of a group send and whether each confirmed it (get_groupmsg_task: status 0 unsent, 2 sent)."""
        rows, cursor = [], ""
        while True:
            data = self.api("/cgi-bin/externalcontact/get_groupmsg_task", {"msgid": msgid, "limit": 1000,
                                                                           "cursor": cursor})
            rows.extend(data.get("task_list", []))
            cursor = data.get("next_cursor", "")
            if not cursor:
                return rows

    def behavior(self, *, userids: list[str], start: int, end: int) -> list[dict]:
        """Contact statistics per day (get_user_behavior_data) of these members, epoch seconds, at most 30 days."""
        data = self.api("/cgi-bin/externalcontact/get_user_behavior_data",
                        {"userid": list(userids), "start_time": start, "end_time": end})
        return list(data.get("behavior_data", []))

    def send_welcome(self, *, welcome_code: str, text: str, attachments: list[dict] = ()) -> None:
        """The welcome message for a new contact, with the welcome_code from the add callback."""
        self.api("/cgi-bin/externalcontact/send_welcome_msg",
                 {"welcome_code": welcome_code, "text": {"content": text}, "attachments": list(attachments)})

    def follow_users(self) -> list[str]:
        """The userids of members allowed to have external contacts (get_follow_user_list)."""
        path = "/cgi-bin/externalcontact/get_follow_user_list"
        try:
            data = self._call("GET", path, params={"access_token": self.access_token()})
        except ChannelError as exc:
            if not exc.code.lstrip("-").isdigit() or int(exc.code) not in TOKEN_INVALID:
                raise
            data = self._call("GET", path, params={"access_token": self.access_token(refresh=True)})
        return list(data.get("follow_user", []))

    # ---- contact ways (渠道活码) and hand-over ------------------------------------------------------------

    def add_contact_way(self, *, users: list[str], state: str, multi: bool, skip_verify: bool,
                        remark: str = "") -> tuple[str, str]:
        """A 「联系我」 QR code for one staff member (type 1) or several in rotation (type 2): (config_id, qr_code)."""
        data = self.api("/cgi-bin/externalcontact/add_contact_way", {
            "type": 2 if multi else 1, "scene": 2, "remark": remark[:30], "skip_verify": skip_verify,
            "state": state, "user": users})
        return data["config_id"], data.get("qr_code", "")

    def update_contact_way(self, *, config_id: str, users: list[str], state: str, skip_verify: bool,
                           remark: str = "") -> None:
        """Change a contact way's staff, state or verification (its QR code stays the same)."""
        self.api("/cgi-bin/externalcontact/update_contact_way", {
            "config_id": config_id, "remark": remark[:30], "skip_verify": skip_verify, "state": state,
            "user": users})

    def del_contact_way(self, *, config_id: str) -> None:
        """Delete a contact way; its QR code stops working."""
        self.api("/cgi-bin/externalcontact/del_contact_way", {"config_id": config_id})

    def transfer_customer(self, *, handover: str, takeover: str, external_userids: list[str],
                          message: str | None = None, resigned: bool = False) -> dict[str, int]:
        """Hand ≤100 customers to another staff member (resigned/… for staff who left): errcode per customer."""
        body = {"handover_userid": handover, "takeover_userid": takeover, "external_userid": external_userids}
        if message and not resigned:
            body["transfer_success_msg"] = message
        path = "/cgi-bin/externalcontact/" + ("resigned/transfer_customer" if resigned else "transfer_customer")
        data = self.api(path, body)
        return {row["external_userid"]: int(row.get("errcode", 0)) for row in data.get("customer", [])}

    def transfer_result(self, *, handover: str, takeover: str, resigned: bool = False) -> dict[str, tuple[int, int]]:
        """Each handed-over customer's status (1 done, 2 waiting, 3 refused, 4 receiver at limit) and take-over time."""
        path = "/cgi-bin/externalcontact/" + ("resigned/transfer_result" if resigned else "transfer_result")
        found, cursor = {}, ""
        while True:
            data = self.api(path, {"handover_userid": handover, "takeover_userid": takeover, "cursor": cursor})
            for row in data.get("customer", []):
                found[row["external_userid"]] = (int(row["status"]), int(row.get("takeover_time") or 0))
            cursor = data.get("next_cursor", "")
            if not cursor:
                return found

    def send(self, message: Outbound) -> SendResult:
        """One customer's message as a single-chat add_msg_template (staff confirm it in WeCom)."""
        try:
            msgid, failed = self.add_msg_template(external_userids=[message.address], text=message.body,
                                                  attachments=message.payload.get("attachments", []),
                                                  sender=message.payload.get("sender"))
        except ChannelError as exc:
            return exc.result()
        if message.address in failed:
            return SendResult.failed("fail_list", "WeCom did not accept this recipient (not a contact of the "
                                     "sender, or over the group-send cap)")
        return SendResult.sent(msgid)

    # ---- customer groups (客户群) ------------------------------------------------------------------------

    def group_chats_page(self, *, cursor: str = "", limit: int = 1000, status_filter: int = 0,
                         owners: list[str] = ()) -> tuple[list[str], str]:
        """One page of groupchat/list (chat ids) and the next cursor ('' at the end)."""
        body: dict[str, Any] = {"status_filter": status_filter, "cursor": cursor, "limit": limit}
        if owners:
            body["owner_filter"] = {"userid_list": list(owners)}
        data = self.api("/cgi-bin/externalcontact/groupchat/list", body)
        return [row["chat_id"] for row in data.get("group_chat_list", [])], data.get("next_cursor", "")

    def group_chat_ids(self, *, limit: int = 1000) -> Iterator[str]:
        """Every customer group's chat id, following the cursor to the end."""
        cursor = ""
        while True:
            page, cursor = self.group_chats_page(cursor=cursor, limit=limit)
            yield from page
            if not cursor:
                return

    def group_chat(self, *, chat_id: str) -> dict:
        """groupchat/get: name, owner, notice, create_time, member_list (userid, type 1 staff / 2 external,
        join_time, join_scene, invitor, state), admin_list."""
        return self.api("/cgi-bin/externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1})["group_chat"]

    def add_join_way(self, *, chat_ids: list[str], state: str, remark: str = "", auto_create_room: bool = True,
                     room_base_name: str = "", room_base_id: int = 1) -> str:
        """A group QR code (群活码, scene 2) over up to five groups; returns its config_id."""
        body: dict[str, Any] = {"scene": 2, "remark": remark[:30], "auto_create_room": int(auto_create_room),
                                "chat_id_list": list(chat_ids), "state": state}
        if auto_create_room:
            body.update(room_base_name=room_base_name[:40], room_base_id=room_base_id)
        return self.api("/cgi-bin/externalcontact/groupchat/add_join_way", body)["config_id"]

    def get_join_way(self, *, config_id: str) -> dict:
        """groupchat/get_join_way: the code's settings and qr_code URL."""
        return self.api("/cgi-bin/externalcontact/groupchat/get_join_way", {"config_id": config_id})["join_way"]

    def del_join_way(self, *, config_id: str) -> None:
        """Delete a group QR code; it stops working."""
        self.api("/cgi-bin/externalcontact/groupchat/del_join_way", {"config_id": config_id})

    def group_statistic(self, *, day_begin: int, day_end: int, owners: list[str]) -> list[dict]:
        """groupchat/statistic by owner over whole days (epoch seconds of local midnights): per owner chat_total,
        chat_has_msg, new_member_cnt, member_total, member_has_msg, msg_total, across pages."""
        found, offset = [], 0
        while True:
            data = self.api("/cgi-bin/externalcontact/groupchat/statistic", {
                "day_begin_time": day_begin, "day_end_time": day_end, "owner_filter": {"userid_list": list(owners)},
                "order_by": 1, "order_asc": 0, "offset": offset, "limit": 1000})
            rows = data.get("items", [])
            found.extend(rows)
            offset = int(data.get("next_offset") or 0)
            if not rows or offset == 0 or offset >= int(data.get("total") or 0):
                return found
