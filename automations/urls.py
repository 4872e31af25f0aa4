"""API routes under /v1 of the automations app (see automations/api/ and automations/runtime/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("automations.api.urls")),
    path("", include("automations.runtime.urls")),
]
