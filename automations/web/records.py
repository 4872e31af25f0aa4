"""Record pages: lists per module, create/edit/delete through records.services (so automations
fire exactly as for the API), and a record page with its runs and manual-trigger buttons."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from automations.models import Automation
from automations.run_queries import runs_touching_record
from automations.runtime.runs import run_manual
from automations.trigger_types import MANUAL
from automations.web.layout import WorkspaceRequest, workspace_view
from automations.web.record_forms import RecordForm, member_choices
from automations.web.runs import POLL_MILLISECONDS, event_label
from config.errors import DomainError, ValidationFailed
from records.api import filter_records
from records.models import Field, Module, Record
from records.selectors import (
    module_fields,
    module_get,
    modules_for,
    record_for_update,
    record_get,
)
from records.services import record_create, record_delete, record_update

PER_PAGE = 25
LIST_COLUMNS = 5
RECORD_RUNS = 50
# How a run touched the record, in the record page's words.
TOUCH_LABELS = {"triggered": "", "created": "created this record", "updated": "updated this record"}


def _module_or_404(request: WorkspaceRequest, slug: str) -> Module:
    module = module_get(workspace=request.workspace, slug=slug)
    if module is None:
        raise Http404("No such module")
    return module


def _record_or_404(request: WorkspaceRequest, module: Module, record_id: str) -> Record:
    record = record_get(workspace=request.workspace, record_id=record_id, module=module)
    if record is None:
        raise Http404("No such record")
    record.module = module
    return record


def _display_rows(record: Record, fields: list[Field], labels: dict[str, Any]) -> list[dict]:
    """(field, value, link) rows for a record page: users by email, references as links."""
    rows = []
    for field in fields:
        value = record.values.get(field.key)
        link = None
        shown: Any = value
        if value is None or value == "":
            shown = ""
        elif field.type == Field.Type.BOOLEAN:
            shown = "Yes" if value else "No"
        elif field.type == Field.Type.USER:
            shown = labels["users"].get(str(value), f"user {value}")
        elif field.type == Field.Type.REFERENCE:
            shown = labels["refs"].get(value, value)
            if field.reference_module:
                link = reverse("web:record", args=[field.reference_module, value])
        rows.append({"field": field, "value": shown, "link": link})
    return rows


def _labels(
    request: WorkspaceRequest, records: list[Record], fields: list[Field]
) -> dict[str, Any]:
    """Members by id and referenced records by id, each fetched once for a whole page."""
    ref_keys = [f.key for f in fields if f.type == Field.Type.REFERENCE]
    ref_ids = {r.values.get(k) for r in records for k in ref_keys} - {None, ""}
    refs = {
        r.id: str(r)
        for r in Record.objects.filter(workspace=request.workspace, id__in=ref_ids).only(
            "id", "values"
        )
    }
    return {"users": dict(member_choices(request.workspace)), "refs": refs}


@workspace_view
def module_list(request: WorkspaceRequest) -> HttpResponse:
    modules = list(modules_for(request.workspace))
    counts = {
        m.pk: m.records.count()  # a handful of modules: one small count each
        for m in modules
    }
    return render(
        request,
        "web/records/modules.html",
        {"nav": "records", "modules": [(m, counts[m.pk]) for m in modules]},
    )


@workspace_view
def record_list(request: WorkspaceRequest, module: str) -> HttpResponse:
    mod = _module_or_404(request, module)
    fields = module_fields(mod)
    search = request.GET.get("q", "").strip()
    records = filter_records(mod, {"search": search} if search else {})
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    columns = fields[:LIST_COLUMNS]
    labels = _labels(request, list(page.object_list), columns)
    rows = []
    for record in page.object_list:
        record.module = mod
        rows.append({"record": record, "cells": _display_rows(record, columns, labels)})
    return render(
        request,
        "web/records/list.html",
        {
            "nav": "records",
            "module": mod,
            "columns": columns,
            "rows": rows,
            "page": page,
            "search": search,
        },
    )


@workspace_view
def record_new(request: WorkspaceRequest, module: str) -> HttpResponse:
    mod = _module_or_404(request, module)
    fields = module_fields(mod)
    form = RecordForm(request.POST if request.method == "POST" else None, module=mod, fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            record = record_create(module=mod, data=form.record_data(), actor=request.user)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{mod.name}: “{record}” created.")
            return redirect("web:record", mod.slug, record.id)
    return render(
        request,
        "web/records/form.html",
        {"nav": "records", "module": mod, "form": form, "record": None},
        status=400 if form.errors else 200,
    )


@workspace_view
def record_edit(request: WorkspaceRequest, module: str, record_id: str) -> HttpResponse:
    mod = _module_or_404(request, module)
    record: Record | None
    if request.method != "POST":
        record = _record_or_404(request, mod, record_id)
        form = RecordForm(None, module=mod, fields=module_fields(mod), record=record)
    else:
        with transaction.atomic():
            # One statement reads the record locked with its module and fields, and the form
            # and the update both use it (an unlocked read for the form, then the update's own
            # locked one, took two).
            record = record_for_update(
                workspace_id=request.workspace.id, record_id=record_id, module_slug=mod.slug
            )
            if record is None:
                raise Http404("No such record")
            form = RecordForm(
                request.POST, module=mod, fields=module_fields(record.module), record=record
            )
            if form.is_valid():
                try:
                    # Validation raises before anything is written, so the transaction stays
                    # usable and commits nothing when it does.
                    record_update(
                        record=record, data=form.record_data(), actor=request.user, locked=True
                    )
                except ValidationFailed as exc:
                    form.add_service_errors(exc)
                else:
                    messages.success(request, f"“{record}” saved.")
                    return redirect("web:record", mod.slug, record.id)
    return render(
        request,
        "web/records/form.html",
        {"nav": "records", "module": mod, "form": form, "record": record},
        status=400 if form.errors else 200,
    )


@workspace_view
def record_delete_view(request: WorkspaceRequest, module: str, record_id: str) -> HttpResponse:
    mod = _module_or_404(request, module)
    record = _record_or_404(request, mod, record_id)
    if request.method == "POST":
        try:
            record_delete(record=record, actor=request.user)
        except DomainError:
            pass  # deleted meanwhile by someone else: the outcome is the same
        messages.success(request, f"“{record}” deleted.")
        return redirect("web:records", mod.slug)
    return render(
        request,
        "web/confirm_delete.html",
        {
            "nav": "records",
            "object_label": f"the {mod.name.lower()} record “{record}”",
            "cancel_url": reverse("web:record", args=[mod.slug, record.id]),
        },
    )


def manual_automations(request: WorkspaceRequest, module: Module) -> list[Automation]:
    return list(
        Automation.objects.filter(
            workspace=request.workspace, module=module, trigger_type=MANUAL, enabled=True
        ).order_by("name")
    )


@workspace_view
def record_detail(request: WorkspaceRequest, module: str, record_id: str) -> HttpResponse:
    mod = _module_or_404(request, module)
    record = _record_or_404(request, mod, record_id)
    fields = module_fields(mod)
    # The runs it triggered and the runs whose actions created or updated it, newest first.
    runs = [
        {
            "run": touch.run,
            "how": TOUCH_LABELS[touch.how],
            "event": event_label(touch.run.trigger_data.get("event")),
        }
        for touch in runs_touching_record(request.workspace, record.id, limit=RECORD_RUNS)
    ]
    return render(
        request,
        "web/records/detail.html",
        {
            "nav": "records",
            "module": mod,
            "record": record,
            "rows": _display_rows(record, fields, _labels(request, [record], fields)),
            "runs": runs,
            "runs_limit": RECORD_RUNS,
            "poll_ms": POLL_MILLISECONDS,
            "manual_automations": manual_automations(request, mod),
        },
    )


@workspace_view
@require_POST
def record_run_manual(
    request: WorkspaceRequest, module: str, record_id: str, automation_id: str
) -> HttpResponse:
    mod = _module_or_404(request, module)
    record = _record_or_404(request, mod, record_id)
    automation = next((a for a in manual_automations(request, mod) if a.id == automation_id), None)
    if automation is None:
        raise Http404("No enabled manual automation with that id for this module")
    try:
        run = run_manual(automation=automation, record=record, user=request.user)
    except DomainError as exc:
        messages.error(request, f"Could not run “{automation.name}”: {exc.message}")
        return redirect("web:record", mod.slug, record.id)
    messages.success(request, f"“{automation.name}” started for “{record}”.")
    return redirect("web:run", run.id)


@workspace_view
def record_shortlink(request: WorkspaceRequest, module: str, record_id: str) -> HttpResponse:
    """`/deals/rec_...` (the seed's notification links) opens the record page."""
    mod = _module_or_404(request, module)
    _record_or_404(request, mod, record_id)
    return redirect("web:record", mod.slug, record_id)
