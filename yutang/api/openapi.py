"""The OpenAPI document: every operation declares the problem+json answers it gives and its role requirement."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from yutang.api.app import operation_key
from yutang.api.problems import MEDIA_TYPE
from yutang.api.roles import NEEDS
from yutang.kit.fields import INT64_MAX, INT64_MIN
from yutang.workspaces.access import Grant, Need, Role, grant

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; `errors` name each field at fault, `field` repeats the first.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "field": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "detail"],
            "properties": {"field": {"type": "string"}, "detail": {"type": "string"}, "line": {"type": "integer"}}}},
    },
}
REASONS = {400: "The request is malformed or too large", 401: "No valid credentials",
           403: "The caller's role may not do this (see x-yutang-access)",
           404: "No such thing in this workspace, or not visible to the caller",
           409: "The change clashes with what is stored", 422: "Invalid input; `errors` name the fields"}
SEGMENT_MESSAGE = {"type": "object", "additionalProperties": True,
                   "description": "A Segment-spec message (userId or anonymousId, type-specific fields).",
                   "properties": {"type": {"type": "string"}, "userId": {"type": "string"},
                                  "anonymousId": {"type": "string"}, "messageId": {"type": "string"},
                                  "event": {"type": "string"}, "properties": {"type": "object"},
                                  "traits": {"type": "object"}, "context": {"type": "object"},
                                  "timestamp": {"type": "string"}, "writeKey": {"type": "string"}}}


def access(need: Need) -> dict:
    """The x-yutang-access extension: the need and what each role gets."""
    return {"need": need.value, "roles": {role.value: grant(role, need).value for role in Role}}


def _statuses(method: str, operation: dict, need: Need) -> set[int]:
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    if need is Need.WRITE_KEY:
        return {400, 401}
    statuses = {401, 422}
    if any(g == Grant.DENY.value for g in access(need)["roles"].values()):
        statuses.add(403)
    if takes_input or need in (Need.READ_CUSTOMERS, Need.SERVE):
        statuses.add(404)
    if method != "get":
        statuses.add(409)
    return statuses


def _exact_bounds(node: Any) -> None:
    # FastAPI's OpenAPI model holds bounds as floats, and 2^63 - 1 does not survive a float: restore the integers.
    if isinstance(node, dict):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = node.get(key)
            if isinstance(value, float) and value.is_integer():
                node[key] = INT64_MAX if value >= INT64_MAX else INT64_MIN if value <= INT64_MIN else int(value)
        for value in node.values():
            _exact_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _exact_bounds(value)


def document(app: FastAPI) -> dict:
    """The OpenAPI document of the app."""
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _exact_bounds(spec)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            need = NEEDS.get(operation_key(method, path))
            if need is None:
                continue
            operation["x-yutang-access"] = access(need)
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, operation, need):
                responses[str(status)] = {"description": REASONS[status], "content": problem}
            if need is Need.WRITE_KEY:
                body = {"$ref": "#/components/schemas/SegmentMessage"}
                if path.endswith("/batch"):
                    body = {"type": "object", "required": ["batch"],
                            "properties": {"batch": {"type": "array", "items": body}}, "additionalProperties": True}
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
                operation["security"] = [{"writeKey": []}]
    schemas["SegmentMessage"] = SEGMENT_MESSAGE
    spec["components"].setdefault("securitySchemes", {})["writeKey"] = {
        "type": "http", "scheme": "basic", "description": "A source's write key as the Basic user name"}
    return spec


def install(app: FastAPI) -> None:
    """Serve `document(app)` as /openapi.json (built once)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi


def role_matrix_markdown(spec: dict) -> str:
    """docs/roles.md: every operation × role as the OpenAPI document declares (and the API enforces) it."""
    roles = [role.value for role in Role]
    lines = ["# Roles: who may call each API operation", "",
             "Generated from `/openapi.json` (`x-yutang-access` of each operation) by "
             "`YUTANG_WRITE_DOCS=1 pytest tests/test_roles.py`; that test fails when this differs from the API.", "",
             "- **allow**: the role may call it; **deny**: 403; **own**: only for customers assigned to the guide "
             "(others are not found); **n/a**: authenticated by a source's write key, not a member's role.",
             "- Needs (`yutang/api/roles.py`, `yutang/workspaces/access.py`): " + ", ".join(
                 f"`{need.value}`" for need in Need) + ".", "",
             "| operation | need | " + " | ".join(roles) + " |", "|---|---|" + "---|" * len(roles)]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            access_ = operation["x-yutang-access"]
            lines.append(f"| `{method.upper()} {path}` | {access_['need']} | "
                         + " | ".join(access_["roles"][role] for role in roles) + " |")
    return "\n".join(lines) + "\n"

