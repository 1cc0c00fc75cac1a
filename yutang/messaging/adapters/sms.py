"""SMS through a configurable HTTP provider: a JSON POST with the template and its parameters.

Request: POST <url>, `Authorization: Bearer <api key>`, body
`{"to": "+8613800138000", "template": "SMS_1", "params": {...}, "sign_name": "…", "reference": "<message id>"}`.
Answer: `{"code": "OK", "message_id": "…"}` or `{"code": "<ERROR>", "message": "…"}`; HTTP 429 is a rate limit.
Delivery reports come back to /v1/callbacks/sms/{config_id} (see docs/messaging.md).
Status: GET <status url> (the send URL's last segment replaced by `status` unless configured), same
`Authorization`; answer `{"code": "OK", "balance": <n>}` or `{"code": "<ERROR>", "message": "…"}`.
"""

import httpx

from yutang.messaging.adapters.base import CheckResult, Outbound, SendResult

# Provider answers worth another try later; every other code is final (bad number, blacklisted, template …).
RETRYABLE = {"RATE_LIMITED", "THROTTLED", "SYSTEM_BUSY", "INSUFFICIENT_BALANCE"}


class HttpSmsAdapter:
    """Posts SMS send requests to one provider endpoint."""

    kind = "sms"

    def __init__(self, *, url: str, api_key: str, sign_name: str = "", status_url: str | None = None,
                 http: httpx.Client | None = None, timeout: float = 10.0):
        self.url = url
        self.status_url = status_url or url.rstrip("/").rpartition("/")[0] + "/status"
        self.api_key = api_key
        self.sign_name = sign_name
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def check(self) -> CheckResult:
        """Call the provider's status endpoint with the API key."""
        try:
            response = self.http.get(self.status_url, headers={"Authorization": f"Bearer {self.api_key}"})
        except httpx.HTTPError as exc:
            return CheckResult.failed("network", str(exc) or type(exc).__name__)
        try:
            data = response.json()
        except ValueError:
            return CheckResult.failed(f"http_{response.status_code}", response.text[:200])
        code = str(data.get("code", f"http_{response.status_code}")) if isinstance(data, dict) else "http_200"
        if code == "OK" and response.status_code < 300:
            return CheckResult(ok=True, message=f"balance {data.get('balance')}" if "balance" in data else "")
        return CheckResult.failed(code, str(data.get("message", "")) if isinstance(data, dict) else "")

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
