"""Routes under /v1 of the automations app, one group per resource module of automations/api/."""

from django.urls import path

from automations.api import automations, email_templates, logs, notifications, webhooks, workspace

urlpatterns = [
    path("automations", automations.AutomationListView.as_view()),
    path("automations/<str:automation_id>", automations.AutomationDetailView.as_view()),
    path("automations/<str:automation_id>/enable", automations.AutomationEnableView.as_view()),
    path("automations/<str:automation_id>/disable", automations.AutomationDisableView.as_view()),
    path(
        "automations/<str:automation_id>/versions",
        automations.AutomationVersionListView.as_view(),
    ),
    path("automations/<str:automation_id>/logs", logs.AutomationLogListView.as_view()),
    path(
        "automations/<str:automation_id>/logs/<str:log_id>",
        logs.AutomationLogDetailView.as_view(),
    ),
    path("automations/<str:automation_id>/test", automations.AutomationTestView.as_view()),
    path("automations/<str:automation_id>/trigger", automations.AutomationTriggerView.as_view()),
    path("workspace", workspace.WorkspaceView.as_view()),
    path("workspace/webhook_secret/rotate", workspace.WorkspaceSecretRotateView.as_view()),
    path("email_templates", email_templates.EmailTemplateListView.as_view()),
    path("email_templates/<str:name>", email_templates.EmailTemplateDetailView.as_view()),
    path(
        "automations/<str:automation_id>/logs/<str:log_id>/retry",
        logs.RunRetryView.as_view(),
        name="run-retry",
    ),
    path(
        "webhooks/<str:automation_id>/<str:webhook_path>",
        webhooks.InboundWebhookView.as_view(),
        name="webhook-receive",
    ),
    path("notifications", notifications.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read_all",
        notifications.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read",
        notifications.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
