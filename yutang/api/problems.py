"""RFC 9457 problem+json for every error, naming the field at fault."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError as DriverDataError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from yutang.kit.errors import DomainError

MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, errors: list[dict] | None = None,
            instance: str | None = None) -> JSONResponse:
    """A problem+json response; `field` repeats the first error's field for simple clients."""
    body: dict = {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE,
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path") else [str(p) for p in loc]
    text = ""
    for part in parts:
        if part.isdigit():
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "body"


def _loc(error: dict) -> tuple:
    """Where an error is; a union's missing or unknown tag is the discriminating field's fault."""
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc += (str(error.get("ctx", {}).get("discriminator", "")).strip("'"),)
    return loc


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        errors = [{"field": e.field, "detail": e.message} | ({"line": e.line} if e.line else {}) for e in exc.errors]
        return problem(exc.status, exc.code, exc.title, exc.detail, errors, str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": _location(_loc(e)), "detail": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors[:5])
        return problem(422, "invalid", "Invalid input", detail, errors, str(request.url.path))

    @app.exception_handler(DataError)
    @app.exception_handler(DriverDataError)  # the warehouse's raw PostgreSQL connections
    async def _data(request: Request, exc: DataError | DriverDataError):
        # The store refused a value (e.g. an integer past 64 bits in a body): the input is at fault, not us.
        return problem(422, "invalid", "Invalid input", "a value is out of range for its field", None,
                       str(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http-error")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), None, str(request.url.path))
