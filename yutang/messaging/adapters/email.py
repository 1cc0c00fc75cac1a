"""Email over SMTP (smtplib), one connection reused across sends and reopened when the server drops it."""

import smtplib
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from yutang.messaging.adapters.base import CheckResult, Outbound, SendResult


class SmtpAdapter:
    """Sends plain-text (and optional HTML) mail through one SMTP server."""

    kind = "email"

    def __init__(self, *, host: str, port: int = 25, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, use_ssl: bool = False, timeout: float = 10.0):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.use_ssl, self.timeout = starttls, use_ssl, timeout
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        conn = cls(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            conn.starttls()
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def check(self) -> CheckResult:
        """Connect, EHLO, STARTTLS and log in as configured, then QUIT: the server's reply code when it refuses."""
        try:
            conn = self._connect()
            try:
                code, reply = conn.ehlo()
                if code >= 400:
                    return CheckResult.failed(code, _text(reply))
            finally:
                try:
                    conn.quit()
                except (OSError, smtplib.SMTPException):
                    conn.close()
        except smtplib.SMTPResponseException as exc:
            return CheckResult.failed(exc.smtp_code, _text(exc.smtp_error))
        except smtplib.SMTPNotSupportedError as exc:
            return CheckResult.failed("not_supported", str(exc))
        except (OSError, smtplib.SMTPException) as exc:
            return CheckResult.failed("network", str(exc) or type(exc).__name__)
        return CheckResult(ok=True)

    def compose(self, message: Outbound) -> EmailMessage:
        """The MIME message: From, To, Subject, Date, a Message-ID naming the Yutang message."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2] or "yutang.local"
        mail["Message-ID"] = make_msgid(idstring=f"yutang-{message.message_id}", domain=domain)
        mail["X-Yutang-Message"] = str(message.message_id)
        mail.set_content(message.body)
        if message.payload.get("html"):
            mail.add_alternative(message.payload["html"], subtype="html")
        return mail

    def send(self, message: Outbound) -> SendResult:
        """Hand the mail to the server; 4xx answers and dropped connections may be retried, 5xx may not."""
        mail = self.compose(message)
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._connect()
                    self._conn.send_message(mail)
                    return SendResult.sent(mail["Message-ID"])
                except smtplib.SMTPServerDisconnected as exc:
                    self._conn = None
                    if attempt == 2:
                        return SendResult.failed("network", str(exc), retryable=True)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    return SendResult.failed(code, _text(text), retryable=400 <= code < 500)
                except smtplib.SMTPResponseException as exc:
                    self._reset()
                    return SendResult.failed(exc.smtp_code, _text(exc.smtp_error),
                                             retryable=400 <= exc.smtp_code < 500)
                except (OSError, smtplib.SMTPException) as exc:
                    self._drop()
                    return SendResult.failed("network", str(exc) or type(exc).__name__, retryable=True)
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        """Say QUIT and close the connection."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.quit()
                except (OSError, smtplib.SMTPException):
                    pass
                self._drop()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
