"""The API's one exception handler: every error a request can meet (a DomainError from the
services, DRF's and Django's own exceptions, anything unexpected) leaves as one shape,
{"error": {"code", "message", "details"}}, with the seed's codes and statuses.

The domain raises plain Python errors (config.errors); only this module maps them to HTTP, so
services stay usable from the admin, the web pages and workers alike.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


_CODES_BY_CLASS: list[tuple[type[Exception], str]] = [
    (exceptions.NotAuthenticated, "unauthorized"),
    (exceptions.AuthenticationFailed, "unauthorized"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.ParseError, "invalid_json"),
]


def _flatten_drf_details(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested serializer errors become {"a.b[0]": ["reason", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_drf_details(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten_drf_details(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = [str(detail)]
    return out


def _unsupported_media_type(context: dict) -> DomainError:
    """415 that says what to send instead: DRF's own message only names the refused type, and
    the usual cause is curl's `-d` (form encoding by default) without a JSON Content-Type."""
    request = context.get("request")
    sent = (getattr(request, "content_type", "") or "").split(";")[0].strip() or "none"
    accepted = [parser.media_type for parser in getattr(request, "parsers", None) or ()]
    accepted = accepted or ["application/json"]
    wanted = " or ".join(accepted)
    message = (
        f'Unsupported Content-Type "{sent}": send the body as JSON with the header '
        f'"Content-Type: {accepted[0]}"'
        if accepted == ["application/json"]
        else f'Unsupported Content-Type "{sent}": send the body as {wanted}'
    )
    return DomainError(
        "unsupported_media_type",
        message,
        status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        details={"Content-Type": [f'"{sent}" is not accepted; use {wanted}']},
    )


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, exceptions.UnsupportedMediaType):
        exc = _unsupported_media_type(context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.details)
        return Response(body, status=exc.status)

    if isinstance(exc, exceptions.ValidationError):
        details = _flatten_drf_details(exc.detail)
        path, messages = next(iter(details.items()), ("", ["invalid input"]))
        message = f"{path}: {messages[0]}" if path else messages[0]
        return Response(error_body("validation_error", message, details), status=400)

    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _CODES_BY_CLASS if isinstance(exc, cls)), "error")
        headers = {}
        # Set by DRF's APIView on NotAuthenticated/AuthenticationFailed, and on Throttled.
        auth_header = getattr(exc, "auth_header", None)
        wait = getattr(exc, "wait", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if wait:
            headers["Retry-After"] = str(int(wait))
        response = Response(error_body(code, str(exc.detail)), status=exc.status_code)
        for key, value in headers.items():
            response[key] = value
        return response

    logger.exception("Unhandled API error", exc_info=exc)
    return Response(
        error_body("internal_error", "An unexpected error occurred"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def json_error_response(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)
