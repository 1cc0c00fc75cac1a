"""The one error hierarchy every domain raises; the API maps it to problem+json once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One field at fault: where it is (dotted path, with the input line if any) and what is wrong."""

    field: str
    message: str
    line: int | None = None
    # pydantic's error type and context when the fault came from a schema, so a console can word it itself.
    kind: str | None = None
    context: dict | None = None


class DomainError(Exception):
    """Base of all domain errors; carries its HTTP status and the fields at fault."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, *, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        if field is not None:
            self.errors.insert(0, FieldError(field=field, message=detail))


class Invalid(DomainError):
    """The input breaks a rule; names the field at fault."""

    status, code, title = 422, "invalid", "Invalid input"


class BadRequest(DomainError):
    """The request itself is malformed or too large (Segment answers these with 400)."""

    status, code, title = 400, "bad-request", "Bad request"


class NotFound(DomainError):
    """No such thing in this workspace (or not visible to the caller)."""

    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    """The change clashes with what is stored (duplicate, concurrent change)."""

    status, code, title = 409, "conflict", "Conflict"


class Unauthorized(DomainError):
    """No valid credentials."""

    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DomainError):
    """Credentials valid but the role may not do this."""

    status, code, title = 403, "forbidden", "Forbidden"
