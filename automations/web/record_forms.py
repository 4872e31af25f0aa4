"""A form per module, built from its fields; records.services does the real validation."""

from typing import Any, cast

from django import forms

from accounts.models import Workspace
from accounts.selectors import workspace_members
from config.errors import ValidationFailed
from records.models import Field, Module, Record
from records.services import derives_name

REFERENCE_CHOICES_LIMIT = 500
BOOLEAN_CHOICES = [("", "—"), ("true", "Yes"), ("false", "No")]


def member_choices(workspace: Workspace) -> list[tuple[str, str]]:
    return [
        (str(m.user_id), m.user.email or m.user.get_username())
        for m in workspace_members(workspace)
    ]


def reference_choices(workspace: Workspace, module_slug: str) -> list[tuple[str, str]]:
    records = Record.objects.filter(workspace=workspace, module__slug=module_slug).order_by(
        "-created_at"
    )[:REFERENCE_CHOICES_LIMIT]
    return [(r.id, f"{r} ({r.id})") for r in records]


def _form_field(field: Field, workspace: Workspace) -> forms.Field:
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    match field.type:
        case Field.Type.NUMBER:
            return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
        case Field.Type.DATE:
            return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case Field.Type.DATETIME:
            return forms.CharField(
                widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
                help_text="UTC",
                **common,
            )
        case Field.Type.BOOLEAN:
            return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
        case Field.Type.SELECT:
            return forms.ChoiceField(
                choices=[("", "—"), *((o, o) for o in field.options)], **common
            )
        case Field.Type.EMAIL:
            return forms.CharField(widget=forms.EmailInput, **common)
        case Field.Type.URL:
            return forms.CharField(widget=forms.URLInput, **common)
        case Field.Type.REFERENCE:
            choices = reference_choices(workspace, field.reference_module)
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        case Field.Type.USER:
            return forms.ChoiceField(choices=[("", "—"), *member_choices(workspace)], **common)
    return forms.CharField(**common)


def initial_value(field: Field, value: Any) -> str:
    """A stored value as the matching input shows it."""
    if value is None:
        return ""
    if field.type == Field.Type.BOOLEAN:
        return "true" if value else "false"
    if field.type == Field.Type.DATETIME and isinstance(value, str):
        return value.removesuffix("Z")
    return str(value)


class RecordForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        module: Module,
        fields: list[Field],
        record: Record | None = None,
        **kwargs: Any,
    ) -> None:
        if record is not None and "initial" not in kwargs:
            kwargs["initial"] = {f.key: initial_value(f, record.values.get(f.key)) for f in fields}
        super().__init__(*args, **kwargs)
        self.module = module
        self.model_fields = fields
        for field in fields:
            form_field = _form_field(field, module.workspace)
            if isinstance(form_field, forms.ChoiceField) and record is not None:
                current = initial_value(field, record.values.get(field.key))
                # A value outside today's choices (an old option, an old record) stays visible.
                # A ChoiceField's choices read back as a list of (value, label) pairs.
                choices = cast(list[tuple[Any, Any]], form_field.choices)
                if current and current not in {str(c[0]) for c in choices}:
                    form_field.choices = [*choices, (current, current)]
            if field.key == "name" and derives_name(module):
                # The service makes the name from the first/last name or email when left empty.
                form_field.required = False
                form_field.help_text = "Leave empty to use the first and last name, or the email"
            self.fields[field.key] = form_field

    def record_data(self) -> dict[str, Any]:
        """The values to hand to record_create/record_update; an empty input clears a value."""
        return {key: (value if value != "" else None) for key, value in self.cleaned_data.items()}

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for path, messages in (exc.details or {}).items():
            for message in messages:
                if path in self.fields:
                    self.add_error(path, message)
                else:
                    self.add_error(None, f"{path}: {message}" if path else message)
