"""The automations list with its filters, and the enable/disable/delete buttons."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from automations.definition.model import definition_of
from automations.engine.schedule import describe_cron
from automations.models import Automation
from automations.selectors import automations_for
from automations.services import automation_delete, automation_set_enabled
from automations.trigger_types import FIELD_CHANGED, SCHEDULE, TRIGGER_TYPES, WEBHOOK
from automations.web.builder import automation_or_404
from automations.web.builder_state import TRIGGER_LABELS
from automations.web.layout import WorkspaceRequest, safe_next, workspace_view
from records.selectors import modules_for

PER_PAGE = 25
ENABLED_FILTERS = {"true": True, "false": False}


def trigger_summary(automation: Automation) -> str:
    """The trigger in a few words, e.g. "deals.stage changes" or "At 09:00 AM"."""
    trigger = definition_of(automation).trigger
    if automation.trigger_type == SCHEDULE:
        return f"{describe_cron(trigger.schedule or '')} ({automation.timezone})"
    if automation.trigger_type == WEBHOOK:
        return f"Webhook /{trigger.webhook_path or ''}"
    if automation.trigger_type == FIELD_CHANGED:
        return f"{trigger.field or ''} changes"
    return TRIGGER_LABELS.get(automation.trigger_type, automation.trigger_type)


@workspace_view
def automation_list(request: WorkspaceRequest) -> HttpResponse:
    module = request.GET.get("module", "")
    enabled = request.GET.get("enabled", "")
    trigger_type = request.GET.get("trigger_type", "")
    search = request.GET.get("q", "").strip()
    automations = automations_for(
        request.workspace,
        module=module or None,
        enabled=ENABLED_FILTERS.get(enabled),
        trigger_type=trigger_type if trigger_type in TRIGGER_TYPES else None,
        search=search or None,
    )
    page = Paginator(automations, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"automation": a, "trigger": trigger_summary(a)} for a in page.object_list]
    return render(
        request,
        "web/automations/list.html",
        {
            "nav": "automations",
            "rows": rows,
            "page": page,
            "modules": modules_for(request.workspace),
            "trigger_choices": list(TRIGGER_LABELS.items()),
            "filters": {
                "module": module,
                "enabled": enabled,
                "trigger_type": trigger_type,
                "q": search,
            },
            "filtered": bool(module or enabled or trigger_type or search),
        },
    )


def _set_enabled(request: WorkspaceRequest, automation_id: str, enabled: bool) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    automation_set_enabled(automation=automation, enabled=enabled)
    state = "enabled" if enabled else "disabled"
    messages.success(request, f"“{automation.name}” {state}.")
    return redirect(safe_next(request, request.POST.get("next"), reverse("web:automations")))


@workspace_view
@require_POST
def automation_enable(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    return _set_enabled(request, automation_id, True)


@workspace_view
@require_POST
def automation_disable(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    return _set_enabled(request, automation_id, False)


@workspace_view
def automation_delete_view(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    if request.method == "POST":
        automation_delete(automation=automation)
        messages.success(request, f"“{automation.name}” deleted.")
        return redirect("web:automations")
    return render(
        request,
        "web/confirm_delete.html",
        {
            "nav": "automations",
            "object_label": f"the automation “{automation.name}”",
            "extra_warning": f"Its {automation.run_count} logged runs are deleted with it.",
            "cancel_url": reverse("web:automation_edit", args=[automation.id]),
        },
    )
