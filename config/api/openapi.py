"""OpenAPI building blocks every API view shares (drf-spectacular): the error shape, the
envelope's meta, paging parameters and the error responses an operation can give.

tests/security/test_schema_fuzz.py holds the schema to what the API really answers, so a view
documents every status it can return; `errors(...)` gives them in the one error shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from config.api.pagination import MAX_PAGE, MAX_PER_PAGE


class ErrorSchema(serializers.Serializer):
    code = serializers.CharField(help_text="validation_error, not_found, record_not_found, ...")
    message = serializers.CharField()
    details = serializers.JSONField(
        allow_null=True, help_text='For validation errors: {"actions[1].config.url": ["..."]}'
    )
    last_error = serializers.CharField(
        required=False,
        help_text="409 automation_disabled after the circuit breaker: the last run's error code",
    )


ErrorResponse = inline_serializer("ErrorResponse", {"error": ErrorSchema()})


class MetaSchema(serializers.Serializer):
    total = serializers.IntegerField(min_value=0)
    page = serializers.IntegerField(min_value=1)
    per_page = serializers.IntegerField(min_value=0)


_DESCRIPTIONS = {
    400: "Invalid input: validation_error (details name each path), invalid_json, ...",
    401: "Missing, malformed, unknown or revoked API key (unauthorized)",
    403: "Not allowed (permission_denied): the caller's role may not, or a session request "
    "came without its CSRF token",
    404: "No such object in the caller's workspace (not_found, record_not_found, ...)",
    405: "Method not allowed on this path (method_not_allowed)",
    409: "Conflict with the current state (see the error code)",
    413: "Request body too large (payload_too_large)",
    415: "Unsupported Content-Type (unsupported_media_type)",
    422: "Understood but not processable (see the error code)",
    429: "Too many requests (rate_limited); Retry-After says when to try again",
}


def error_description(status: int) -> str:
    return _DESCRIPTIONS[status]


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses, all in the API's error shape, for `responses=` of extend_schema."""
    return {
        status: OpenApiResponse(ErrorResponse, description=_DESCRIPTIONS[status])
        for status in statuses
    }


# What every operation authenticated by a key can answer besides its own results: a malformed
# request (e.g. NUL in the URL), refused credentials, a body over API_MAX_BODY_BYTES, a wrong
# Content-Type, the per-key rate limit.
COMMON = (400, 401, 413, 415, 429)


def page_parameters(size_name: str = "per_page") -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, description="From 1"
        ),
        OpenApiParameter(
            size_name,
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            description="Items per page (default 25, at most 100)",
        ),
    ]


# Exactly what the views accept for a flag: true/false, yes/no in any case, 1/0; empty means
# "not given".
_FLAG = r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|1|0)?$"


def boolean_parameter(name: str, description: str = "") -> OpenApiParameter:
    """A true/false query flag as the views parse it."""
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": _FLAG},
        description=description or "true or false (also yes/no, 1/0)",
    )


def data_of(name: str, serializer: Any) -> serializers.Serializer:
    return inline_serializer(name, {"data": serializer})


def page_of(name: str, serializer: Any) -> serializers.Serializer:
    return inline_serializer(name, {"data": serializer, "meta": MetaSchema()})


# --- Components that fields reference by name ------------------------------------------------
# drf-spectacular names components after serializers; a shape a serializer cannot express (a
# recursive condition group, say) is registered here and added to the schema by
# `add_registered_components`, so the field's schema can point at it with a $ref.
_COMPONENTS: dict[str, dict[str, Any]] = {}


def component(name: str, schema: dict[str, Any]) -> dict[str, str]:
    """Register `schema` as components.schemas[name]; returns the $ref to it."""
    _COMPONENTS[name] = schema
    return ref(name)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def add_registered_components(result: dict, **kwargs: Any) -> dict:
    """POSTPROCESSING_HOOKS entry: the components registered with `component()`."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(_COMPONENTS)
    return result
