"""Outbound webhooks signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."""

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from yutang.messaging.adapters.base import CheckResult, Outbound, SendResult

RETRY_STATUSES = {408, 409, 425, 429}


def sign(secret: str, *, msg_id: str, timestamp: datetime, body: str) -> str:
    """The webhook-signature value `v1,<base64 HMAC-SHA256 of id.timestamp.body>` for a whsec_ secret."""
    return Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body)


def headers_for(secret: str | list[str], *, msg_id: str, body: str, now: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for a body; several secrets give several space-separated signatures
    (a secret being rotated signs beside its successor)."""
    now = now or datetime.now(UTC)
    secrets = [secret] if isinstance(secret, str) else secret
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(sign(s, msg_id=msg_id, timestamp=now, body=body) for s in secrets),
            "content-type": "application/json"}


class WebhookAdapter:
    """POSTs a message's event to the endpoint; the webhook-id stays the same on every retry and replay."""

    kind = "webhook"

    def __init__(self, *, url: str, secret: str, http: httpx.Client | None = None, timeout: float = 10.0):
        Webhook(secret)  # a malformed secret fails here, at configuration
        self.url = url
        self.secret = secret
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def check(self) -> CheckResult:
        """POST a signed `{"type": "ping"}` event; any 2xx answer passes."""
        msg_id = f"msg_yutang_check_{int(datetime.now(UTC).timestamp() * 1000)}"
        body = json.dumps({"type": "ping", "data": {}}, separators=(",", ":"))
        try:
            response = self.http.post(self.url, content=body.encode(),
                                      headers=headers_for(self.secret, msg_id=msg_id, body=body))
        except httpx.HTTPError as exc:
            return CheckResult.failed("network", str(exc) or type(exc).__name__)
        if 200 <= response.status_code < 300:
            return CheckResult(ok=True)
        return CheckResult.failed(f"http_{response.status_code}", response.text[:200])

    def send(self, message: Outbound) -> SendResult:
        """Deliver; 2xx is success, 408/429/5xx and network faults are retried, other 4xx are final."""
        event = message.payload.get("event")
        if event is None:
            event = {"type": "message", "data": {"body": message.body}}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        msg_id = message.payload.get("webhook_id") or f"msg_yutang_{message.message_id}"
        try:
            response = self.http.post(self.url, content=body.encode(),
                                      headers=headers_for(self.secret, msg_id=msg_id, body=body))
        except httpx.HTTPError as exc:
            return SendResult.failed("network", str(exc) or type(exc).__name__, retryable=True)
        if 200 <= response.status_code < 300:
            return SendResult.sent(msg_id)
        retry = response.status_code >= 500 or response.status_code in RETRY_STATUSES
        return SendResult.failed(f"http_{response.status_code}", response.text[:200], retryable=retry)
