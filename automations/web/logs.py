"""Execution logs: an automation's runs with its run charts, one run in detail (with links
to the records its actions wrote), and retrying a failed run. Unfinished runs update in place
(static/js/live_status.js polls web:run_status)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from automations.models import ActionRun, Run
from automations.representation import run_data
from automations.run_queries import daily_outcomes, duration_percentiles, written_records
from automations.runtime.executor import actions_for
from automations.runtime.runs import CONDITION_FAILED
from automations.runtime.runs import run_retry as run_retry_service
from automations.selectors import runs_for
from automations.web.builder import automation_or_404
from automations.web.charts import daily_bars
from automations.web.layout import WorkspaceRequest, workspace_view
from automations.web.runs import POLL_MILLISECONDS, event_label
from config.errors import DomainError

PER_PAGE = 25
CHART_DAYS = 30
IN_PROGRESS = {
    Run.Status.PENDING,
    Run.Status.RUNNING,
    Run.Status.WAITING,
    Run.Status.RETRYING,
}


def _run_or_404(request: WorkspaceRequest, run_id: str) -> Run:
    run = (
        Run.objects.filter(workspace=request.workspace, pk=run_id)
        .select_related("automation", "automation__module", "triggered_by")
        .prefetch_related("action_runs")
        .first()
    )
    if run is None:
        raise Http404("No such run")
    return run


@workspace_view
def automation_logs(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    status = request.GET.get("status", "")
    runs = runs_for(automation, status=status if status in Run.Status.values else None)
    page = Paginator(runs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/automations/logs.html",
        {
            "nav": "automations",
            "tab": "logs",
            "automation": automation,
            "page": page,
            "status": status,
            "statuses": Run.Status.choices,
            "refresh": any(r.status in IN_PROGRESS for r in page.object_list),
            "poll_ms": POLL_MILLISECONDS,
            "chart": daily_bars(daily_outcomes(automation, days=CHART_DAYS)),
            "durations": duration_percentiles(automation, days=CHART_DAYS),
        },
    )


@workspace_view
def run_detail(
    request: WorkspaceRequest, run_id: str, automation_id: str | None = None
) -> HttpResponse:
    run = _run_or_404(request, run_id)
    if automation_id is not None and run.automation_id != automation_id:
        raise Http404("No such run of this automation")
    data = run_data(run)
    trigger = data["trigger_data"]
    record_link = None
    if run.record_id and trigger.get("module") and trigger.get("event") != "record.deleted":
        record_link = (trigger["module"], run.record_id)
    action_runs = list(run.action_runs.all())
    return render(
        request,
        "web/automations/run.html",
        {
            "nav": "automations",
            "run": run,
            "automation": run.automation,
            "data": data,
            "action_runs": action_runs,
            "written": _written(request, action_runs),
            "event": event_label(trigger.get("event")),
            "pending_actions": _pending_actions(run),
            "record_link": record_link,
            "in_progress": run.status in IN_PROGRESS,
            "poll_ms": POLL_MILLISECONDS,
            "can_retry": run.status == Run.Status.FAILED and run.error_code != CONDITION_FAILED,
        },
    )


def _written(request: WorkspaceRequest, action_runs: list[ActionRun]) -> dict[int, dict]:
    """{action index: {"verb", "record", "module", "record_id"}} for the actions whose output
    names a record they created or updated; `record` is None once it has been deleted."""
    records = written_records(request.workspace, action_runs)
    written = {}
    for ar in action_runs:
        output = ar.output if isinstance(ar.output, dict) else {}
        record_id = output.get("record_id")
        if not record_id:
            continue
        written[ar.index] = {
            "verb": "Created" if ar.type == "create_record" else "Updated",
            "record": records.get(str(record_id)),
            "module": output.get("module") or "",
            "record_id": str(record_id),
        }
    return written


def _pending_actions(run: Run) -> list[dict]:
    """Actions of the run's definition (the version it started with) that have not started
    yet (shown greyed out)."""
    done = {a.index for a in run.action_runs.all()}
    actions = actions_for(run, run.automation)
    return [
        {"index": i, "type": spec.type or "?"} for i, spec in enumerate(actions) if i not in done
    ]


@workspace_view
@require_POST
def run_retry(request: WorkspaceRequest, run_id: str) -> HttpResponse:
    run = _run_or_404(request, run_id)
    try:
        retried = run_retry_service(run=run, user=request.user)
    except DomainError as exc:
        messages.error(request, f"Could not retry: {exc.message}")
        return redirect("web:run", run.id)
    messages.success(request, "Retrying from the failed action.")
    return redirect("web:run", retried.id)
