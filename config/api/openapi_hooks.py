"""drf-spectacular postprocessing hooks (POSTPROCESSING_HOOKS): rewrites of the generated
schema that no annotation can express, so that /v1/schema is valid, strict OpenAPI 3.0.

tests/api/test_schema_responses.py validates every operation's real responses against the
result with a strict OpenAPI 3.0 validator; tests/api/test_schema_client.py generates a client
from it and runs it.
"""

from __future__ import annotations

from typing import Any

from config.api.openapi import error_description, ref

# The one OpenAPI 3.0 schema that accepts exactly null: in 3.0.3, `nullable: true` adds null
# only to a schema with a `type` of its own, and `enum` must then list null.
NULL_ONLY: dict[str, Any] = {"type": "object", "nullable": True, "enum": [None]}


def nullable_refs(result: dict, **kwargs: Any) -> dict:
    """A nullable field whose type is a component comes out of drf-spectacular as
    `{"allOf": [{"$ref": ...}], "nullable": true}`. A strict 3.0 reading refuses null there:
    `nullable` has no `type` beside it, and null does not match the referenced object. Say
    what is meant instead: the component, or null (`oneOf: [{"$ref": ...}, <null only>]`),
    which strict validators accept and client generators read as `Component | None`."""
    return _rewrite(result)


def _rewrite(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _rewrite(value) for key, value in node.items()}
    all_of = node.get("allOf")
    if node.get("nullable") is True and isinstance(all_of, list) and len(all_of) == 1:
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        return {"oneOf": [all_of[0], dict(NULL_ONLY)], **rest}
    return node


# Methods a session (the web UI's cookie) must send a CSRF token with; without it Django REST
# framework's SessionAuthentication refuses the request with 403 permission_denied.
_UNSAFE = ("post", "put", "patch", "delete")


def session_csrf_forbidden(result: dict, **kwargs: Any) -> dict:
    """Every state-changing operation that accepts the session cookie can answer 403."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _UNSAFE or not _accepts_session(operation):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "403",
                {
                    "description": error_description(403),
                    "content": {"application/json": {"schema": ref("ErrorResponse")}},
                },
            )
    return result


def _accepts_session(operation: dict) -> bool:
    return any("SessionAuth" in requirement for requirement in operation.get("security", []))


RETRY_AFTER = {
    "description": "Seconds until the current rate-limit window ends",
    "schema": {"type": "integer", "minimum": 0},
}


def rate_limit_headers(result: dict, **kwargs: Any) -> dict:
    """Every 429 (config.ratelimit's Throttled) says when to try again in Retry-After."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "429" in operation.get("responses", {}):
                operation["responses"]["429"].setdefault("headers", {})["Retry-After"] = dict(
                    RETRY_AFTER
                )
    return result
