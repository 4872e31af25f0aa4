"""The browser UI, mounted at / (see automations/web_urls.py)."""

from django.urls import path, re_path

from automations.web import (
    api_keys,
    auth,
    automations_list,
    builder,
    history,
    logs,
    notifications,
    records,
    runs,
    testing,
)

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("workspace/switch", auth.switch_workspace, name="switch_workspace"),
    # Automations
    path("automations/", automations_list.automation_list, name="automations"),
    path("automations/new", builder.automation_new, name="automation_new"),
    path("automations/cron-preview", builder.cron_preview, name="cron_preview"),
    path("automations/<str:automation_id>/", builder.automation_edit, name="automation_edit"),
    path("automations/<str:automation_id>/test", testing.automation_test, name="automation_test"),
    path("automations/<str:automation_id>/logs", logs.automation_logs, name="automation_logs"),
    path(
        "automations/<str:automation_id>/enable",
        automations_list.automation_enable,
        name="automation_enable",
    ),
    path(
        "automations/<str:automation_id>/disable",
        automations_list.automation_disable,
        name="automation_disable",
    ),
    path(
        "automations/<str:automation_id>/delete",
        automations_list.automation_delete_view,
        name="automation_delete",
    ),
    # Failure notices link here (automations/runtime/notifications.py).
    path("automations/<str:automation_id>/logs/<str:run_id>", logs.run_detail, name="run_of"),
    path("runs/<str:run_id>/", logs.run_detail, name="run"),
    path("runs/<str:run_id>/retry", logs.run_retry, name="run_retry"),
    # Records
    path("records/", records.module_list, name="modules"),
    path("records/<slug:module>/", records.record_list, name="records"),
    path("records/<slug:module>/new", records.record_new, name="record_new"),
    path("records/<slug:module>/<str:record_id>/", records.record_detail, name="record"),
    path("records/<slug:module>/<str:record_id>/edit", records.record_edit, name="record_edit"),
    path(
        "records/<slug:module>/<str:record_id>/delete",
        records.record_delete_view,
        name="record_delete",
    ),
    path(
        "records/<slug:module>/<str:record_id>/run/<str:automation_id>",
        records.record_run_manual,
        name="record_run",
    ),
    # Notifications
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/read-all", notifications.notification_read_all, name="notifications_read_all"
    ),
    path(
        "notifications/<int:notification_id>/read",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/<int:notification_id>/open",
        notifications.notification_open,
        name="notification_open",
    ),
    # API keys
    path("settings/api-keys/", api_keys.api_key_list, name="api_keys"),
    path(
        "settings/webhook-secret/rotate",
        api_keys.webhook_secret_rotate_view,
        name="webhook_secret_rotate",
    ),
    path(
        "settings/api-keys/<int:key_id>/revoke", api_keys.api_key_revoke_view, name="api_key_revoke"
    ),
    # The seed's notification links look like /deals/rec_...: open the record page.
    # Only `<module>/rec_...`, and never under the API's or the admin's prefix.
    # History, copies and transfer (automations/web/history.py)
    path("automations/import", history.automation_import, name="automation_import"),
    path(
        "automations/<str:automation_id>/history",
        history.automation_history,
        name="automation_history",
    ),
    path(
        "automations/<str:automation_id>/history/diff",
        history.automation_version_diff,
        name="automation_version_diff",
    ),
    path(
        "automations/<str:automation_id>/history/<int:version>/restore",
        history.automation_version_restore,
        name="automation_version_restore",
    ),
    path(
        "automations/<str:automation_id>/duplicate",
        history.automation_duplicate_view,
        name="automation_duplicate",
    ),
    path(
        "automations/<str:automation_id>/export",
        history.automation_export,
        name="automation_export",
    ),
    re_path(
        r"^(?!v1/|admin/|static/)(?P<module>[-a-z0-9_]+)/(?P<record_id>rec_[a-z0-9]+)$",
        records.record_shortlink,
        name="record_shortlink",
    ),
    # Runs of every automation (automations/web/runs.py)
    path("runs/", runs.run_list, name="runs"),
    path("runs/status", runs.run_status, name="run_status"),
]
