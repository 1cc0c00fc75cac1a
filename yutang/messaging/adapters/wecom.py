"""WeCom customer contact (externalcontact) over its JSON API: token, contacts, corporate tags, group send.

Documented at developer.work.weixin.qq.com (客户联系). Every answer carries errcode/errmsg; 0 is success.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from yutang.messaging.adapters.base import ChannelError, Outbound, SendResult

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

    def send_welcome(self, *, welcome_code: str, text: str, attachments: list[dict] = ()) -> None:
        """The welcome message for a new contact, with the welcome_code from the add callback."""
        self.api("/cgi-bin/externalcontact/send_welcome_msg",
                 {"welcome_code": welcome_code, "text": {"content": text}, "attachments": list(attachments)})

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
