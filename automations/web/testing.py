"""Test an automation from the builder: a dry run against a real record, with no side effects.

It shows each condition with the record's actual value and whether it passed, and every action
rendered as it would run.
"""

from typing import Any, cast

from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from automations.models import Automation
from automations.trigger_types import FIELD_CHANGED, MODULE_TRIGGERS, PREVIOUS_TRIGGERS
from automations.web.builder import automation_or_404
from automations.web.builder_state import OPERATOR_LABELS
from automations.web.layout import WorkspaceRequest, workspace_view
from automations.web.record_forms import reference_choices
from config.errors import DomainError
from records.selectors import module_fields, record_get
from records.services import record_snapshot


class DryRunForm(forms.Form):
    record = forms.ChoiceField(label="Record", required=False)
    record_id = forms.CharField(
        label="…or a record id", required=False, help_text="rec_… (any record of the module)"
    )
    changed_field = forms.ChoiceField(label="Pretend this field changed", required=False)
    previous_value = forms.CharField(label="from this previous value", required=False)

    def __init__(self, *args: Any, automation: Automation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.automation = automation
        module = automation.module
        if module is None:
            for name in ("record", "record_id", "changed_field", "previous_value"):
                del self.fields[name]
            return
        self._choice_field("record").choices = [
            ("", "Choose a record…"),
            *reference_choices(automation.workspace, module.slug),
        ]
        if automation.trigger_type in PREVIOUS_TRIGGERS:
            fields = module_fields(module)
            self._choice_field("changed_field").choices = [
                ("", "No change (use the record as it is)"),
                *((f.key, f.label) for f in fields),
            ]
            if automation.trigger_type == FIELD_CHANGED:
                self.fields["changed_field"].initial = automation.watched_field
        else:
            del self.fields["changed_field"]
            del self.fields["previous_value"]

    def _choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.automation.module is None:
            return data
        record_id = (data.get("record_id") or "").strip() or data.get("record")
        if not record_id:
            raise forms.ValidationError("Choose a record to test with.")
        record = record_get(
            workspace=self.automation.workspace,
            record_id=record_id,
            module=self.automation.module,
        )
        if record is None:
            self.add_error("record_id", f"No {self.automation.module.name} record {record_id}.")
        data["record_obj"] = record
        return data

    def previous(self, snapshot: dict[str, Any]) -> dict[str, Any] | None:
        """The record as it was before the pretended change (None: no change to test)."""
        key = self.cleaned_data.get("changed_field")
        if not key:
            return None
        value = self.cleaned_data.get("previous_value")
        return {**snapshot, key: value if value != "" else None}


def _flatten(evaluated: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Condition results, nested groups flattened with their depth for indentation."""
    rows: list[dict[str, Any]] = []
    for item in evaluated or []:
        if not isinstance(item, dict):
            continue
        group_key = next((k for k in ("all", "any") if k in item), None)
        if group_key and isinstance(item.get(group_key), list):
            rows.append({"group": group_key, "passed": item.get("passed"), "depth": depth})
            rows += _flatten(item[group_key], depth + 1)
        else:
            op = item.get("operator", "")
            rows.append({**item, "operator_label": OPERATOR_LABELS.get(op, op), "depth": depth})
    return rows


@workspace_view
def automation_test(request: WorkspaceRequest, automation_id: str) -> HttpResponse:
    from automations.dryrun import dry_run

    automation = automation_or_404(request, automation_id)
    form = DryRunForm(request.POST if request.method == "POST" else None, automation=automation)
    result = None
    error = None
    if request.method == "POST" and form.is_valid():
        record = form.cleaned_data.get("record_obj")
        module = automation.module
        snapshot = None
        # The form finds a record only for an automation on a module.
        if record is not None and module is not None:
            record.module = module
            snapshot = record_snapshot(record, module_fields(module))
        try:
            result = dry_run(
                automation=automation,
                record=snapshot,
                previous=form.previous(snapshot) if snapshot is not None else None,
                user=request.user,
            )
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "web/automations/test.html",
        {
            "nav": "automations",
            "tab": "test",
            "automation": automation,
            "form": form,
            "result": result,
            "error": error,
            "condition_rows": _flatten(result.get("conditions_evaluated")) if result else [],
            "needs_record": automation.trigger_type in MODULE_TRIGGERS,
        },
        status=400 if form.errors else 200,
    )
