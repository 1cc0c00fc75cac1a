"""SMS through a configurable HTTP provider: a JSON POST with the template and its parameters.

Request: POST <url>, `Authorization: Bearer <api key>`, body
`{"to": "+8613800138000", "template": "SMS_1", "params": {...}, "sign_name": "…", "reference": "<message id>"}`.
Answer: `{"code": "OK", "message_id": "…"}` or `{"code": "<ERROR>", "message": "…"}`; HTTP 429 is a rate limit.
Delivery reports come back to /v1/callbacks/sms/{config_id} (see docs/messaging.md).
"""

import httpx

from yutang.messaging.adapters.base import Outbound, SendResult

# Provider answers worth another try later; every other code is final (bad number, blacklisted, template …).
RETRYABLE = {"RATE_LIMITED", "THROTTLED", "SYSTEM_BUSY", "INSUFFICIENT_BALANCE"}


class HttpSmsAdapter:
    """Posts SMS send requests to one provider endpoint."""

    kind = "sms"

    def __init__(self, *, url: str, api_key: str, sign_name: str = "", http: httpx.Client | None = None,
                 timeout: float = 10.0):
        self.url = url
        self.api_key = api_key
        self.sign_name = sign_name
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def send(self, message: Outbound) -> SendResult:
        """Ask the provider to send the template SMS."""
        template = message.payload.get("template")
        if not template:
            return SendResult.failed("template", "an SMS needs its provider template code")
        body = {"to": message.address, "template": template, "params": message.payload.get("params") or {},
                "sign_name": self.sign_name, "reference": str(message.message_id)}
        try:
            response = self.http.post(self.url, json=body, headers={"Authorization": f"Bearer {self.api_key}"})
        except httpx.HTTPError as exc:
            return SendResult.failed("network", str(exc), retryable=True)
        if response.status_code == 429:
            return SendResult.failed("RATE_LIMITED", response.text[:200], retryable=True)
        if response.status_code >= 500:
            return SendResult.failed(f"http_{response.status_code}", response.text[:200], retryable=True)
        try:
            data = response.json()
        except ValueError:
            return SendResult.failed(f"http_{response.status_code}", "answer is not JSON")
        code = str(data.get("code", f"http_{response.status_code}"))
        if code == "OK" and response.status_code < 300:
            return SendResult.sent(data.get("message_id"))
        return SendResult.failed(code, data.get("message", ""), retryable=code in RETRYABLE)
