"""Django's own 404/500 in the API's error shape under /v1, HTML elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from config.api.errors import json_error_response
from config.api.middleware import is_api_path


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return json_error_response("not_found", f"No endpoint at {request.path}", 404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return json_error_response("internal_error", "An unexpected error occurred", 500)
    return defaults.server_error(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return json_error_response("bad_request", "Bad request", 400)
    return defaults.bad_request(request, exception)
