"""Serializers that document the API in OpenAPI (/v1/schema). They describe shapes only:
requests are validated by automations.definition, which reports exact paths."""

from rest_framework import serializers

from automations.definition import ACTION_TYPES
from automations.engine.conditions import OPERATORS
from automations.models import ActionRun, Run
from automations.trigger_types import TRIGGER_TYPES
from config.api.openapi import (  # noqa: F401 - shared with records; re-exported for views
    ErrorResponse,
    ErrorSchema,
    MetaSchema,
    data_of,
    page_of,
)


class TriggerSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=TRIGGER_TYPES)
    module = serializers.CharField(required=False, help_text="Record and manual triggers")
    field = serializers.CharField(required=False, help_text="field.changed")
    schedule = serializers.CharField(required=False, help_text="schedule: 5-field cron")
    webhook_path = serializers.CharField(required=False, help_text="webhook")


class ConditionSchema(serializers.Serializer):
    field = serializers.CharField()
    operator = serializers.ChoiceField(choices=OPERATORS)
    value = serializers.JSONField(required=False)


class ActionSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(ACTION_TYPES))
    config = serializers.DictField(child=serializers.JSONField())


class ErrorHandlingSchema(serializers.Serializer):
    notify_on_failure = serializers.BooleanField(default=True)
    notify_email = serializers.EmailField(allow_null=True, required=False)
    disable_after_failures = serializers.IntegerField(min_value=1, max_value=100, default=5)


_CONDITIONS_HELP = (
    'A list of conditions (all must pass), or a group {"all": [...]} / {"any": [...]} '
    "whose items are conditions or groups."
)


class AutomationInSchema(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    enabled = serializers.BooleanField(default=False)
    trigger = TriggerSchema()
    conditions = ConditionSchema(many=True, required=False, help_text=_CONDITIONS_HELP)
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
    conditions = ConditionSchema(many=True, help_text=_CONDITIONS_HELP)
    actions = ActionSchema(many=True)
    error_handling = ErrorHandlingSchema()
    timezone = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_run_status = serializers.CharField(allow_null=True)
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


class ActionExecutedSchema(serializers.Serializer):
    index = serializers.IntegerField()
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=ActionRun.Status.values)
    duration_ms = serializers.IntegerField(allow_null=True)
    attempt = serializers.IntegerField()
    error = serializers.CharField(required=False)
    error_code = serializers.CharField(required=False, allow_null=True)


class RunSchema(serializers.Serializer):
    id = serializers.CharField()
    automation_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Run.Status.values)
    trigger_data = serializers.DictField(child=serializers.JSONField())
    conditions_evaluated = serializers.ListField(child=serializers.DictField())
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


class ConditionEvaluatedSchema(serializers.Serializer):
    field = serializers.CharField()
    operator = serializers.CharField()
    value = serializers.JSONField(required=False)
    actual_value = serializers.JSONField()
    previous_value = serializers.JSONField(required=False)
    passed = serializers.BooleanField()


class DryRunSchema(serializers.Serializer):
    would_execute = serializers.BooleanField()
    conditions_passed = serializers.BooleanField()
    conditions_evaluated = ConditionEvaluatedSchema(many=True)
    actions_preview = serializers.ListField(child=serializers.DictField())
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


class VersionSchema(serializers.Serializer):
    version = serializers.IntegerField()
    definition = serializers.DictField(child=serializers.JSONField())
    created_at = serializers.DateTimeField()
    created_by = serializers.DictField(allow_null=True)
