"""The point-and-click builder: create and edit an automation.

builder.js serialises the page into one `definition` field holding the same JSON the API
takes; the view saves it through automation_create/automation_update, so validation (and the
"an update disables" rule) is exactly the API's. Without JavaScript the same field is a JSON
textarea, so the page still reads, and still saves, in any browser.
"""

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from automations.actions import ACTIONS
from automations.models import Automation
from automations.selectors import automation_get
from automations.services import automation_create, automation_update
from automations.trigger_types import MODULE_TRIGGERS, PREVIOUS_TRIGGERS, TRIGGER_TYPES
from automations.web import builder_state as bs
from automations.web.layout import WorkspaceRequest, workspace_view
from config.errors import ValidationFailed
from primitives import jsonpolicy

# Keys the builder form owns itself (name, description) or must never set (enabled: the API's
# rule is that saving a change disables; enabling is a separate, explicit step).
_FORM_KEYS = {"name", "description", "enabled"}
_PATH_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")
_PART_LABELS = {
    "trigger": "Trigger",
    "conditions": "Conditions",
    "actions": "Action",
    "error_handling": "When it fails",
    "config": "",
    "webhook_path": "webhook path",
    "module": "module",
    "field": "field",
    "schedule": "schedule",
    "all": "group",
    "any": "group",
}


def automation_or_404(request: WorkspaceRequest, automation_id: str) -> Automation:
    automation = automation_get(workspace=request.workspace, automation_id=automation_id)
    if automation is None:
        raise Http404("No such automation")
    return automation


def describe_path(path: str) -> str:
    """`actions[1].config.url` -> `Action 2 → url`: where a problem is, in words."""
    if not path:
        return "Automation"
    words = []
    for part in path.split("."):
        match = _PATH_PART.fullmatch(part)
        if not match:
            words.append(part)
            continue
        name, index = match.groups()
        label = _PART_LABELS.get(name, name.replace("_", " "))
        if index is not None:
            label = f"{label or name} {int(index) + 1}".strip()
            if name == "conditions":
                label = f"Condition {int(index) + 1}"
        if label:
            words.append(label)
    return " → ".join(words)


def parse_definition(raw: str | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The definition field's JSON, or the problems to show on it: the API's JSON policy
    (depth, non-finite numbers, NUL, lone surrogates), naming the refused value's path."""
    if not raw or not raw.strip():
        return {}, {"definition": ["the definition is empty"]}
    try:
        value = jsonpolicy.loads(raw)
    except jsonpolicy.JSONRefused as err:
        return {}, {"definition": [str(err)]}
    if not isinstance(value, dict):
        return {}, {"definition": ["the definition must be a JSON object"]}
    return value, {}


def _initial_definition(request: WorkspaceRequest, automation: Automation | None) -> dict[str, Any]:
    definition = bs.definition_of(automation)
    if automation is None:
        # Links such as "create a manual automation for contacts" preselect the trigger.
        trigger_type = request.GET.get("trigger")
        module = request.GET.get("module", "")
        if trigger_type in TRIGGER_TYPES:
            definition["trigger"] = {"type": trigger_type}
            if trigger_type in MODULE_TRIGGERS:
                definition["trigger"]["module"] = module
    return definition


def _builder(request: WorkspaceRequest, automation: Automation | None) -> HttpResponse:
    schema = bs.builder_schema(request.workspace)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        raw_definition = request.POST.get("definition")
        definition, errors = parse_definition(raw_definition)
        name = request.POST.get("name", "")
        description = request.POST.get("description", "")
        if not errors:
            data = {
                "name": name,
                "description": description,
                **{k: v for k, v in definition.items() if k not in _FORM_KEYS},
            }
            try:
                if automation is None:
                    saved = automation_create(
                        workspace=request.workspace, user=request.user, data=data
                    )
                else:
                    saved = automation_update(automation=automation, user=request.user, data=data)
            except ValidationFailed as exc:
                errors = exc.details or {"": [exc.message]}
            else:
                edit_url = reverse("web:automation_edit", args=[saved.id])
                if automation is not None and saved.version == automation.version:
                    # The service's rule: a save that changes nothing leaves the state alone.
                    messages.info(request, f"“{saved.name}” had no changes to save.")
                    return redirect(edit_url)
                messages.success(request, f"“{saved.name}” saved. It is now disabled.")
                return redirect(f"{edit_url}?saved=1")
    else:
        definition = _initial_definition(request, automation)
        name = automation.name if automation else ""
        description = automation.description if automation else ""
    state = bs.builder_state(
        workspace=request.workspace,
        automation=automation,
        name=name,
        description=description,
        definition=definition,
        schema=schema,
    )
    if request.method == "POST" and "definition" in errors:
        # What could not be read is given back as typed, to be corrected, not lost.
        state.definition_json = raw_definition or ""
    context = {
        "nav": "automations",
        "tab": "edit",
        "automation": automation,
        "state": state,
        "schema": schema,
        "errors": errors,
        "error_list": [
            (path, describe_path(path), message)
            for path, msgs in errors.items()
            for message in msgs
        ],
        "saved": request.GET.get("saved") == "1" and automation is not None,
        "trigger_choices": list(bs.TRIGGER_LABELS.items()),
        "action_choices": [(kind, action.label) for kind, action in ACTIONS.items()],
        "blank_actions": [
            _blank(a)
            for a in bs.blank_actions(
                modules={m["slug"]: m["fields"] for m in schema["modules"]},
                trigger_module=state.trigger["module"],
            )
        ],
        "blank_condition": bs.ConditionLeaf(
            path="",
            uid="__uid__",
            field="",
            operator="equals",
            value="",
            field_type=None,
            operators=[
                (op, bs.operator_label(op, None))
                for op in bs.operators_for(
                    None, has_previous=state.trigger["type"] in PREVIOUS_TRIGGERS
                )
            ],
            widget={"input": "text", "value": "", "hidden": False, "choices": []},
        ),
        "blank_group": bs.ConditionGroup(path="", uid="__uid__", mode="all", depth=1),
        "module_trigger_types": sorted(MODULE_TRIGGERS),
        "cron_presets": bs.CRON_PRESETS,
        "timezones": bs.timezone_choices(),
        "delay_units": bs.DELAY_UNITS,
        "methods": bs.WEBHOOK_METHODS,
        "module_fields": state.module_fields,
        "email_extra_keys": [("cc", "Cc"), ("bcc", "Bcc"), ("reply_to", "Reply-To")],
    }
    return render(request, "web/automations/builder.html", context, status=400 if errors else 200)


def _blank(action: bs.ActionState) -> bs.ActionState:
    action.uid = "__uid__"
    action.path = ""
    return action


@workspace_view
def automation_new(request: WorkspaceRequest) -> HttpResponse:
    return _builder(request, None)


@workspace_view
def automation_edit(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    return _builder(request, automation_or_404(request, automation_id))


@workspace_view
def cron_preview(request: WorkspaceRequest) -> JsonResponse:
    """The schedule in words and its next five runs, for the builder as the user types."""
    schedule = request.GET.get("schedule", "")[:200]
    tz = request.GET.get("timezone", "UTC")[:64]
    return JsonResponse(bs.cron_preview(schedule, tz))
