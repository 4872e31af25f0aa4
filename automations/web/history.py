"""The History tab and the copy/transfer buttons of an automation's page: its versions, a
side-by-side diff of two of them, restoring one, Duplicate, Export (a JSON download) and the
Import page. The work is done by automations.history and automations.transfer; these views only
ask, confirm and show the outcome in words.

Who may use them: any member of the workspace, the same members who may edit an automation in
the builder (every write here is such an edit); another workspace's automations are 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from automations.definition.model import DEFINITION_FIELDS
from automations.history import (
    automation_duplicate,
    version_get,
    version_parts,
    version_restore,
    versions_of,
)
from automations.models import Automation, AutomationVersion
from automations.services import automation_definition
from automations.transfer import export_json, import_automations, parse_document
from automations.version_diff import definition_diff
from automations.web.builder import automation_or_404, describe_path
from automations.web.layout import WorkspaceRequest, workspace_view
from config.errors import DomainError, ValidationFailed

MAX_IMPORT_BYTES = 2 * 1024 * 1024
_INDEXED = "automations["


def _version_or_404(automation: Automation, number: str | int | None) -> AutomationVersion:
    try:
        return version_get(automation, int(str(number)))
    except (TypeError, ValueError, DomainError):
        raise Http404("No such version") from None


def _problems_in_words(exc: ValidationFailed) -> list[str]:
    """ "Trigger → module: unknown module 'x'" for each problem of a definition."""
    return [
        f"{describe_path(path)}: {message}" if path else message
        for path, messages_ in (exc.details or {"": [exc.message]}).items()
        for message in messages_
    ]


@workspace_view
def automation_history(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    versions = list(versions_of(automation))
    return render(
        request,
        "web/automations/history.html",
        {
            "nav": "automations",
            "tab": "history",
            "automation": automation,
            "versions": versions,
            # Compare the two newest by default: "what did the last save change?"
            "default_from": versions[1].version if len(versions) > 1 else automation.version,
        },
    )


@dataclass(frozen=True)
class _Side:
    label: str
    version: AutomationVersion | None  # None: the automation as it is now


@workspace_view
def automation_version_diff(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    """?from=N&to=M (either may be "current")."""
    automation = automation_or_404(request, automation_id)
    sides = []
    definitions = []
    for key in ("from", "to"):
        wanted = request.GET.get(key) or "current"
        if wanted == "current":
            current = automation_definition(automation)
            definitions.append({part: current.get(part) for part in DEFINITION_FIELDS})
            sides.append(_Side(f"Now (version {automation.version})", None))
            continue
        version = _version_or_404(automation, wanted)
        definitions.append(version_parts(version))
        sides.append(_Side(f"Version {version.version}", version))
    parts = definition_diff(definitions[0], definitions[1])
    return render(
        request,
        "web/automations/history_diff.html",
        {
            "nav": "automations",
            "tab": "history",
            "automation": automation,
            "left": sides[0],
            "right": sides[1],
            "parts": parts,
            "changed_count": sum(part.changed for part in parts),
            "versions": list(versions_of(automation).values_list("version", flat=True)),
            "selected": (request.GET.get("from") or "current", request.GET.get("to") or "current"),
        },
    )


@workspace_view
def automation_version_restore(
    request: WorkspaceRequest, automation_id: str, version: int
) -> HttpResponse:
    """GET asks for confirmation; POST saves the old definition as a new version."""
    automation = automation_or_404(request, automation_id)
    old = _version_or_404(automation, version)
    problems: list[str] = []
    if request.method == "POST":
        try:
            saved = version_restore(automation=automation, version=old, user=request.user)
        except ValidationFailed as exc:
            problems = _problems_in_words(exc)
        else:
            if saved.version == automation.version:
                messages.info(
                    request,
                    f"Version {old.version} is what “{saved.name}” already is: nothing to restore.",
                )
            else:
                messages.success(
                    request,
                    f"Version {old.version} restored as version {saved.version}. "
                    "The automation is now disabled: test it, then enable it.",
                )
            return redirect("web:automation_history", automation.id)
    return render(
        request,
        "web/automations/history_restore.html",
        {
            "nav": "automations",
            "tab": "history",
            "automation": automation,
            "old": old,
            "problems": problems,
        },
        status=400 if problems else 200,
    )


@workspace_view
@require_POST
def automation_duplicate_view(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    try:
        copy = automation_duplicate(automation=automation, user=request.user)
    except ValidationFailed as exc:
        # The original no longer validates (a field since deleted): say so where it is fixed.
        for problem in _problems_in_words(exc):
            messages.error(request, f"Could not duplicate: {problem}")
        return redirect("web:automation_edit", automation.id)
    messages.success(
        request,
        f"“{copy.name}” created from “{automation.name}”. It is disabled until you enable it.",
    )
    return redirect("web:automation_edit", copy.id)


@workspace_view
def automation_export(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    automation = automation_or_404(request, automation_id)
    response = HttpResponse(export_json([automation]), content_type="application/json")
    filename = f"{slugify(automation.name) or 'automation'}.automation.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="A .json file from an automation's Export button or manage.py "
        "export_automations.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )


def _import_problems(exc: ValidationFailed, automations: list[dict] | None) -> list[str]:
    """Each problem with the automation of the file it belongs to, in words."""
    lines = []
    for path, messages_ in (exc.details or {"": [exc.message]}).items():
        where, rest = "", path
        if path.startswith(_INDEXED):
            index_text, _, rest = path[len(_INDEXED) :].partition("]")
            rest = rest.removeprefix(".")
            if index_text.isdigit():
                index = int(index_text)
                name = (automations or [{}] * (index + 1))[index].get("name")
                where = f"Automation {index + 1}" + (f" (“{name}”)" if name else "")
        elif path in ("format", "version", "automations"):
            rest = ""
        part = describe_path(rest) if rest else ""
        prefix = " → ".join(p for p in (where, part) if p)
        lines += [f"{prefix}: {message}" if prefix else message for message in messages_]
    return lines


@workspace_view
def automation_import(request: WorkspaceRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        automations: list[dict] | None = None
        try:
            if upload.size > MAX_IMPORT_BYTES:
                raise ValidationFailed([("", "the file is larger than 2 MB")])
            automations = parse_document(upload.read())
            created = import_automations(
                workspace=request.workspace, automations=automations, user=request.user
            )
        except ValidationFailed as exc:
            problems = _import_problems(exc, automations)
        else:
            names = ", ".join(f"“{a.name}”" for a in created)
            messages.success(
                request,
                f"Imported {names}, disabled: test {'them' if len(created) > 1 else 'it'}, "
                "then enable.",
            )
            if len(created) == 1:
                return redirect("web:automation_edit", created[0].id)
            return redirect(reverse("web:automations"))
    return render(
        request,
        "web/automations/import.html",
        {"nav": "automations", "form": form, "problems": problems},
        status=400 if problems or form.errors else 200,
    )
