from collections.abc import Callable
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from config.api.errors import json_error_response


def is_api_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


class RefuseNulInUrlMiddleware:
    """400 for NUL (%00) in the path or query string, on every page and API route: PostgreSQL
    cannot compare or store U+0000, and a view would turn it into a query (a 500). Request
    bodies: config.api.parsers for the API, Django's form fields for the pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            message = "NUL (%00) is not allowed in the URL"
            if is_api_path(request.path):
                return json_error_response("invalid_request", message, 400)
            return HttpResponseBadRequest(message, content_type="text/plain")
        return self.get_response(request)


class ApiBodySizeLimitMiddleware:
    """413 in the API's error shape for a body over API_MAX_BODY_BYTES.

    DRF reads JSON from the request stream, which bypasses Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the limit is enforced here from Content-Length (and chunked bodies are refused).
    Inbound webhooks have their own, smaller limit in their view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path):
            length = request.META.get("CONTENT_LENGTH") or "0"
            try:
                size = int(length)
            except ValueError:
                return json_error_response("invalid_request", "Invalid Content-Length", 400)
            if size > settings.API_MAX_BODY_BYTES:
                return json_error_response(
                    "payload_too_large",
                    f"Request body is {size} bytes; the limit is {settings.API_MAX_BODY_BYTES}",
                    413,
                )
        return self.get_response(request)
