"""Serializers that document the API in OpenAPI (/v1/schema). They describe shapes only:
requests are validated by automations.definition, which reports exact paths."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from automations.actions import ACTIONS
from automations.engine.conditions import OPERATORS
from automations.models import ActionRun, Run
from automations.trigger_types import TRIGGER_TYPES
from config.api.openapi import (  # noqa: F401 - shared with records; re-exported for views
    ErrorResponse,
    ErrorSchema,
    MetaSchema,
    component,
    data_of,
    page_of,
    ref,
)


class TriggerSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=TRIGGER_TYPES)
    module = serializers.CharField(required=False, help_text="Record and manual triggers")
    field = serializers.CharField(required=False, help_text="field.changed")
    schedule = serializers.CharField(required=False, help_text="schedule: 5-field cron")
    webhook_path = serializers.CharField(required=False, help_text="webhook")


# Conditions nest: a list of conditions (all must pass) or a group, {"all": [...]} or
# {"any": [...]}, whose items are conditions or groups again. A serializer cannot refer to
# itself, so the recursive part is written as components (config.api.openapi.component).
_CONDITION = component(
    "Condition",
    {
        "type": "object",
        "properties": {
            "field": {"type": "string", "description": "A field key, or id/created_at/..."},
            "operator": {"type": "string", "enum": list(OPERATORS)},
            "value": {"description": "Absent for is_empty, is_not_empty and changed"},
        },
        "required": ["field", "operator"],
    },
)
_CONDITION_NODE = component(
    "ConditionNode",
    {
        "description": "A condition, or a group of conditions",
        "oneOf": [_CONDITION, ref("ConditionGroup")],
    },
)
for _mode, _passes in (("all", "every item passes"), ("any", "at least one item passes")):
    component(
        f"Condition{_mode.title()}Group",
        {
            "type": "object",
            "description": f"Passes when {_passes}",
            "properties": {_mode: {"type": "array", "items": _CONDITION_NODE}},
            "required": [_mode],
        },
    )
_CONDITION_GROUP = component(
    "ConditionGroup",
    {"oneOf": [ref("ConditionAllGroup"), ref("ConditionAnyGroup")]},
)
_CONDITIONS_HELP = (
    'A list of conditions (all must pass), or a group {"all": [...]} / {"any": [...]} '
    "whose items are conditions or groups."
)


@extend_schema_field(
    {
        "description": _CONDITIONS_HELP,
        "oneOf": [{"type": "array", "items": _CONDITION_NODE}, _CONDITION_GROUP],
    }
)
class ConditionsField(serializers.JSONField):
    """An automation's conditions, as documented (the definition package validates them)."""


# One enum component per choice set wherever it appears (settings' ENUM_NAME_OVERRIDES).
ACTION_TYPE_NAMES = list(ACTIONS)
RUN_STATUSES = list(Run.Status.values)
ACTION_RUN_STATUSES = list(ActionRun.Status.values)


class ActionSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=ACTION_TYPE_NAMES)
    config = serializers.DictField(child=serializers.JSONField())


class ErrorHandlingSchema(serializers.Serializer):
    notify_on_failure = serializers.BooleanField(default=True)
    notify_email = serializers.EmailField(allow_null=True, required=False)
    disable_after_failures = serializers.IntegerField(min_value=1, max_value=100, default=5)


class AutomationInSchema(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    enabled = serializers.BooleanField(default=False)
    trigger = TriggerSchema()
    conditions = ConditionsField(required=False)
    actions = ActionSchema(many=True)
    error_handling = ErrorHandlingSchema(required=False)
    timezone = serializers.CharField(default="UTC", help_text="IANA name; the cron's timezone")
    webhook_secret = serializers.CharField(
        required=False, help_text="webhook triggers: whsec_... that inbound calls are signed with"
    )


class AutomationPatchSchema(AutomationInSchema):
    """Every part optional; a part given replaces the stored one whole. A change disables the
    automation ("enabled": true beside a change is a 400: enable with POST .../enable after
    testing); "enabled" alone, or with unchanged values, enables or disables."""

    name = serializers.CharField(max_length=200, required=False)
    trigger = TriggerSchema(required=False)
    actions = ActionSchema(many=True, required=False)


class DisabledReasonSchema(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    last_error = serializers.CharField()


class AutomationSchema(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    trigger = TriggerSchema()
    conditions = ConditionsField()
    actions = ActionSchema(many=True)
    error_handling = ErrorHandlingSchema()
    timezone = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_run_status = serializers.ChoiceField(choices=RUN_STATUSES, allow_null=True)
    run_count = serializers.IntegerField()
    consecutive_failures = serializers.IntegerField()
    disabled_reason = DisabledReasonSchema(allow_null=True)
    next_run_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="schedule triggers"
    )
    next_runs = serializers.ListField(
        child=serializers.DateTimeField(), required=False, help_text="schedule triggers"
    )
    schedule_description = serializers.CharField(required=False)
    webhook_url = serializers.URLField(required=False, help_text="webhook triggers")
    webhook_secret_set = serializers.BooleanField(required=False)


def run_status() -> serializers.ChoiceField:
    """A run's status (one enum component, RunStatusEnum, wherever it appears)."""
    return serializers.ChoiceField(choices=RUN_STATUSES)


class ActionExecutedSchema(serializers.Serializer):
    index = serializers.IntegerField()
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=ACTION_RUN_STATUSES)
    duration_ms = serializers.IntegerField(allow_null=True)
    attempt = serializers.IntegerField()
    error = serializers.CharField(required=False)
    error_code = serializers.CharField(required=False, allow_null=True)


class ConditionEvaluatedSchema(serializers.Serializer):
    """One condition's outcome, in the dry run and in a log (the same entries)."""

    field = serializers.CharField()
    operator = serializers.ChoiceField(choices=OPERATORS)
    value = serializers.JSONField(required=False, help_text="Absent for is_empty, changed, ...")
    actual_value = serializers.JSONField(allow_null=True)
    previous_value = serializers.JSONField(
        required=False, allow_null=True, help_text="changed, changed_to, changed_from"
    )
    passed = serializers.BooleanField()


class UserRefSchema(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField(allow_blank=True)


class RecordSnapshotSchema(serializers.Serializer):
    """A record as the API returns it: these keys plus one per field of its module."""

    id = serializers.CharField(allow_null=True, help_text="null for an inline dry-run record")
    module = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class WebhookEventSchema(serializers.Serializer):
    method = serializers.CharField()
    body = serializers.JSONField(allow_null=True, help_text="Parsed JSON or form body")
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True))
    query = serializers.DictField(
        child=serializers.JSONField(), help_text="A value, or a list when repeated"
    )


class TriggerDataSchema(serializers.Serializer):
    """The event a run was started by, as it was stored (secrets in webhook headers masked)."""

    event = serializers.CharField(allow_null=True)
    record_id = serializers.CharField(allow_null=True)
    module = serializers.CharField(required=False, allow_null=True)
    record = RecordSnapshotSchema(required=False, allow_null=True)
    previous = serializers.DictField(
        required=False, allow_null=True, help_text="The values an update replaced"
    )
    changed_fields = serializers.ListField(child=serializers.CharField(), required=False)
    user = UserRefSchema(required=False, allow_null=True)
    webhook = WebhookEventSchema(required=False, allow_null=True)
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)


class RunSchema(serializers.Serializer):
    id = serializers.CharField()
    automation_id = serializers.CharField()
    status = run_status()
    trigger_data = TriggerDataSchema()
    conditions_evaluated = ConditionEvaluatedSchema(many=True)
    actions_executed = ActionExecutedSchema(many=True)
    error_code = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    attempts = serializers.IntegerField()
    resumes_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)


class DryRunInSchema(serializers.Serializer):
    record_id = serializers.CharField(required=False)
    record = serializers.DictField(required=False, help_text="An inline record instead")
    previous = serializers.DictField(required=False, help_text="Update triggers")
    webhook = serializers.DictField(required=False, help_text="Webhook triggers: body, query")


class PreviewErrorSchema(serializers.Serializer):
    code = serializers.CharField(
        help_text=(
            "The code the run would fail with: template_render_failed, validation_error, "
            "record_not_found, ..."
        )
    )
    message = serializers.CharField()


class EmailPreviewSchema(serializers.Serializer):
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)


class ActionPreviewSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=ACTION_TYPE_NAMES)
    config = serializers.DictField(
        child=serializers.JSONField(), help_text="Rendered as the real run would render it"
    )
    email = EmailPreviewSchema(
        required=False, help_text="send_email with a template: its rendered subject and body"
    )
    error = PreviewErrorSchema(
        required=False, help_text="What the real run would fail with (config left unrendered)"
    )


class DryRunSchema(serializers.Serializer):
    would_execute = serializers.BooleanField()
    conditions_passed = serializers.BooleanField()
    conditions_evaluated = ConditionEvaluatedSchema(many=True)
    actions_preview = ActionPreviewSchema(many=True)
    enabled = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())


class TriggerInSchema(serializers.Serializer):
    record_id = serializers.CharField()


class EmailTemplateSchema(serializers.Serializer):
    name = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class EmailTemplatePatchSchema(serializers.Serializer):
    name = serializers.CharField(required=False)
    subject = serializers.CharField(required=False)
    body = serializers.CharField(required=False)


class DefinitionSchema(serializers.Serializer):
    """A saved definition (the webhook secret is never kept in history)."""

    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    trigger = TriggerSchema()
    conditions = ConditionsField()
    actions = ActionSchema(many=True)
    error_handling = ErrorHandlingSchema()
    timezone = serializers.CharField()


class VersionSchema(serializers.Serializer):
    version = serializers.IntegerField()
    definition = DefinitionSchema()
    created_at = serializers.DateTimeField()
    created_by = UserRefSchema(allow_null=True)
