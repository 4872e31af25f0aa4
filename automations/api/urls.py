from django.urls import path

from automations.api import views

urlpatterns = [
    path("automations", views.AutomationListView.as_view()),
    path("automations/<str:automation_id>", views.AutomationDetailView.as_view()),
    path("automations/<str:automation_id>/enable", views.AutomationEnableView.as_view()),
    path("automations/<str:automation_id>/disable", views.AutomationDisableView.as_view()),
    path("automations/<str:automation_id>/versions", views.AutomationVersionListView.as_view()),
    path("automations/<str:automation_id>/logs", views.AutomationLogListView.as_view()),
    path(
        "automations/<str:automation_id>/logs/<str:log_id>",
        views.AutomationLogDetailView.as_view(),
    ),
    path("automations/<str:automation_id>/test", views.AutomationTestView.as_view()),
    path("automations/<str:automation_id>/trigger", views.AutomationTriggerView.as_view()),
    path("workspace", views.WorkspaceView.as_view()),
    path("workspace/webhook_secret/rotate", views.WorkspaceSecretRotateView.as_view()),
    path("email_templates", views.EmailTemplateListView.as_view()),
    path("email_templates/<str:name>", views.EmailTemplateDetailView.as_view()),
]
