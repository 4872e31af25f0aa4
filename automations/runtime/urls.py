"""Engine routes under /v1: inbound webhooks, the caller's notifications, log retry."""

from django.urls import path

from automations.runtime import views

urlpatterns = [
    # automations/api/urls.py is included before this file, so a view there would take over.
    path(
        "automations/<str:automation_id>/logs/<str:log_id>/retry",
        views.RunRetryView.as_view(),
        name="run-retry",
    ),
    path(
        "webhooks/<str:automation_id>/<str:webhook_path>",
        views.InboundWebhookView.as_view(),
        name="webhook-receive",
    ),
    path("notifications", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read_all",
        views.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
