"""The site's routes: the API under /v1 (each app's urls, the schema and its docs), the admin,
the health check and the web UI; API-style JSON for Django's own 400/404/500 under /v1."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from config.api.schema_view import CachedSchemaView
from config.health import healthz

handler400 = "config.api.fallback.handler400"
handler404 = "config.api.fallback.handler404"
handler500 = "config.api.fallback.handler500"

api_v1: list[URLPattern | URLResolver] = [
    path("", include("records.urls")),
    path("", include("accounts.urls")),
    path("", include("automations.api.urls")),
    path("schema", CachedSchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (`?script`), not inline,
    # so the page works under the Content-Security-Policy (config.csp).
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("v1/", include(api_v1)),
    path("", include("automations.web_urls")),
]
