"""The one protocol every channel adapter speaks, and what a send attempt returns."""

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Outbound:
    """One message as an adapter sends it: the address is the channel's own (openid, email, E.164, url …)."""

    message_id: int
    address: str
    body: str = ""
    subject: str | None = None
    # Channel specifics: template_id / data / url / page for WeChat, attachments for WeCom, the event for webhooks.
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """What happened: sent (with the provider's id) or failed with the channel's own code and message."""

    ok: bool
    provider_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False

    @classmethod
    def sent(cls, provider_id: str | None = None) -> "SendResult":
        """A send the channel accepted."""
        return cls(ok=True, provider_id=provider_id)

    @classmethod
    def failed(cls, code: object, message: str, *, retryable: bool = False) -> "SendResult":
        """A send the channel refused (retryable for rate limits and transient faults)."""
        return cls(ok=False, error_code=str(code), error_message=message[:500], retryable=retryable)


@dataclass(frozen=True)
class CheckResult:
    """What a connection test found: reached and accepted, or the peer's (or the network's) error code."""

    ok: bool
    code: str | None = None
    message: str = ""

    @classmethod
    def failed(cls, code: object, message: str) -> "CheckResult":
        """The peer refused, or could not be reached ("network")."""
        return cls(ok=False, code=str(code), message=message[:500])


class ChannelAdapter(Protocol):
    """A channel Yutang can send through."""

    kind: str

    def send(self, message: Outbound) -> SendResult:
        """Send one message; never raises for the channel's refusals, only returns them."""

    def check(self) -> CheckResult:
        """Reach the peer with the configured credentials without sending anything to a customer."""

    def close(self) -> None:
        """Release connections."""


class ChannelError(Exception):
    """A channel API answered with an error code (used inside adapters and by sync calls)."""

    def __init__(self, code: object, message: str, *, retryable: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message
        self.retryable = retryable

    def result(self) -> SendResult:
        """The error as a failed send."""
        return SendResult.failed(self.code, self.message, retryable=self.retryable)

    def checked(self) -> CheckResult:
        """The error as a failed connection test."""
        return CheckResult.failed(self.code, self.message)


class NullAdapter:
    """Accepts everything and sends nowhere (benchmarks, dry runs)."""

    kind = "null"

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Outbound) -> SendResult:
        """Count and accept."""
        self.sent += 1
        return SendResult.sent(f"null-{message.message_id}")

    def check(self) -> CheckResult:
        """Nothing to reach."""
        return CheckResult(ok=True)

    def close(self) -> None:
        """Nothing to release."""
