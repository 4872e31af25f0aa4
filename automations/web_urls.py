"""Browser routes (the builder and record pages), served by automations/web/."""

from django.urls import include, path

urlpatterns = [
    path("", include("automations.web.urls")),
]
