"""Reads of automations, runs and email templates, always scoped to one workspace."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Workspace
from automations.models import Automation, EmailTemplate, Run
from records.models import Module


def automations_for(
    workspace: Workspace,
    *,
    module: Module | str | None = None,
    enabled: bool | None = None,
    trigger_type: str | None = None,
    search: str | None = None,
) -> QuerySet[Automation]:
    """Newest first (index auto_workspace_created); `module` is a Module or its slug."""
    automations = Automation.objects.filter(workspace=workspace).select_related("module")
    if isinstance(module, Module):
        automations = automations.filter(module=module)
    elif module:
        automations = automations.filter(module__slug=module)
    if enabled is not None:
        automations = automations.filter(enabled=enabled)
    if trigger_type:
        automations = automations.filter(trigger_type=trigger_type)
    if search:
        automations = automations.filter(name__icontains=search)
    return automations.order_by("-created_at", "id")


def automation_get(*, workspace: Workspace, automation_id: str) -> Automation | None:
    """None for an unknown id and for another workspace's automation alike."""
    return (
        Automation.objects.filter(workspace=workspace, pk=automation_id)
        .select_related("module", "workspace")
        .first()
    )


def runs_for(
    automation: Automation, *, status: str | None = None, since: datetime | None = None
) -> QuerySet[Run]:
    """Newest first, with their action runs (indexes run_automation_created/_status).

    `since` is inclusive: runs created at or after it.
    """
    runs = Run.objects.filter(automation=automation)
    if status:
        runs = runs.filter(status=status)
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    return runs.order_by("-created_at", "-id").prefetch_related("action_runs")


def email_templates_for(workspace: Workspace) -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.filter(workspace=workspace).order_by("name")


def email_template_get(*, workspace: Workspace, name: str) -> EmailTemplate | None:
    return EmailTemplate.objects.filter(workspace=workspace, name=name).first()


def automations_using_template(*, workspace: Workspace, name: str) -> list[Automation]:
    """Automations whose send_email actions name the template. Read in Python rather than with
    a JSON containment lookup, which SQLite (the default database) does not support."""
    rows = Automation.objects.filter(workspace=workspace).only("id", "name", "actions")
    return [
        automation
        for automation in rows.order_by("name", "id")
        if any(
            isinstance(action, dict)
            and action.get("type") == "send_email"
            and isinstance(action.get("config"), dict)
            and action["config"].get("template") == name
            for action in automation.actions or []
        )
    ]
