"""Routes under /v1 of the records app: modules, their fields and their records."""

from django.urls import path

from records import api

urlpatterns = [
    path("modules", api.ModuleListView.as_view()),
    path("modules/<slug:slug>", api.ModuleDetailView.as_view()),
    path("modules/<slug:slug>/fields", api.FieldListView.as_view()),
    path("modules/<slug:slug>/records", api.RecordListView.as_view()),
    path("modules/<slug:slug>/records/<str:record_id>", api.RecordDetailView.as_view()),
]
