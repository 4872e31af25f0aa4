"""The Content-Security-Policy header, on every response (Django 5.2 has none of its own).

Only this site's own scripts, styles, fonts and images run: no inline <script>, no on*
attributes, no style attributes, no eval. The builder, the pages, the admin and the Swagger UI
at /v1/docs all work under it (their scripts and styles are static files;
templates/drf_spectacular/swagger_ui.html moves Swagger's inline style and script out).
Styles set from a script through element.style (CSSOM) are not affected by style-src.
`data:` images are for the SVG icons Swagger UI and the admin inline in their CSS.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
