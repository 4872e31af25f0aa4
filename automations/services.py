"""Writes of automations and email templates. Every write validates through
automations.definition, keeps the derived columns in step with the definition, and invalidates
the in-process matching index once the transaction commits."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Workspace
from automations import selectors
from automations.definition import (
    DEFINITION_FIELDS,
    definition_of,
    enabled_problems,
    validate_definition,
)
from automations.definition.model import Trigger
from automations.engine.schedule import next_run_after
from automations.engine.templates import validate_template_value
from automations.models import Automation, AutomationVersion, EmailTemplate
from automations.trigger_types import FIELD_CHANGED, SCHEDULE, WEBHOOK
from automations.validation import type_name, unknown_keys
from config.errors import DomainError, ValidationFailed
from records.models import Module


def invalidate_automation_cache(workspace_id: int) -> None:
    """Tell the engine's in-process matching index that this workspace's automations changed.

    Runs after commit (a rolled-back write changes nothing). A no-op until the engine's
    automations.runtime.matching module exists.
    """
    try:
        matching = importlib.import_module("automations.runtime.matching")
    except ModuleNotFoundError as err:
        if err.name != "automations.runtime.matching":
            raise  # a broken import inside the module is a bug, not an absent module
        return
    transaction.on_commit(lambda: matching.invalidate(workspace_id))


# ---------------------------------------------------------------------------------------------
# Automations


def automation_definition(automation: Automation) -> dict[str, Any]:
    """The stored definition in the shape validate_definition takes and returns."""
    definition: dict[str, Any] = {
        "name": automation.name,
        "description": automation.description,
        "enabled": automation.enabled,
        "trigger": automation.trigger,
        "conditions": automation.conditions,
        "actions": automation.actions,
        "error_handling": automation.error_handling,
        "timezone": automation.timezone,
    }
    if automation.webhook_secret:
        definition["webhook_secret"] = automation.webhook_secret
    return definition


def _versioned(definition: Mapping[str, Any]) -> dict[str, Any]:
    # History records what runs execute; the secret stays out of it.
    return {key: definition.get(key) for key in DEFINITION_FIELDS}


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON: Python's 1 == True == 1.0 must not make an edit look like no change.
    What cannot be dumped is no match: validate_definition then says what is wrong with it."""
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return False


def _apply_definition(automation: Automation, cleaned: Mapping[str, Any]) -> None:
    trigger = cleaned["trigger"]
    automation.name = cleaned["name"]
    automation.description = cleaned["description"]
    automation.trigger = trigger
    automation.conditions = cleaned["conditions"]
    automation.actions = cleaned["actions"]
    automation.error_handling = cleaned["error_handling"]
    automation.timezone = cleaned["timezone"]
    automation.webhook_secret = cleaned.get("webhook_secret") or ""
    # Derived columns: the matcher and the schedule dispatcher query these, never the JSON.
    typed = definition_of(automation).trigger
    automation.trigger_type = typed.type
    automation.module = (
        Module.objects.get(workspace_id=automation.workspace_id, slug=typed.module)
        if typed.module
        else None
    )
    automation.watched_field = (typed.field or "") if typed.type == FIELD_CHANGED else ""
    automation.webhook_path = typed.webhook_path if typed.type == WEBHOOK else None


def _next_run_at(automation: Automation, *, now: datetime | None = None) -> datetime | None:
    if not automation.enabled or automation.trigger_type != SCHEDULE:
        return None
    return next_run_after(
        definition_of(automation).trigger.schedule or "", automation.timezone, now or timezone.now()
    )


def _save(automation: Automation, **kwargs: Any) -> None:
    """Save, turning a lost race for a webhook path into the same 400 validation gives."""
    try:
        with transaction.atomic():
            automation.save(**kwargs)
    except IntegrityError as err:
        if "auto_webhook_path_unique" not in str(err):
            raise
        raise ValidationFailed(
            [("trigger.webhook_path", f"'{automation.webhook_path}' is already in use")]
        ) from None


def _actor(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


@transaction.atomic
def automation_create(*, workspace: Workspace, user: Any, data: Mapping[str, Any]) -> Automation:
    """Validate and store a new automation (disabled unless `data` says "enabled": true)."""
    cleaned = validate_definition(workspace=workspace, data=data).as_json()
    automation = Automation(workspace=workspace, created_by=_actor(user), version=1)
    _apply_definition(automation, cleaned)
    automation.enabled = cleaned["enabled"]
    automation.next_run_at = _next_run_at(automation)
    _save(automation, force_insert=True)
    AutomationVersion.objects.create(
        automation=automation,
        version=1,
        definition=_versioned(cleaned),
        created_by=automation.created_by,
    )
    invalidate_automation_cache(workspace.id)
    return automation


_UPDATE_FIELDS = [
    *DEFINITION_FIELDS,
    "enabled",
    "trigger_type",
    "module",
    "watched_field",
    "webhook_path",
    "webhook_secret",
    "next_run_at",
    "version",
    "updated_at",
]


def _enable_refused(automation: Automation) -> ValidationFailed:
    return ValidationFailed(
        [
            (
                "enabled",
                "an update disables the automation so that the change can be tested first: "
                'send the change without "enabled": true, test it '
                f"(POST /v1/automations/{automation.id}/test), then enable it "
                f"(POST /v1/automations/{automation.id}/enable)",
            )
        ]
    )


@transaction.atomic
def automation_update(*, automation: Automation, user: Any, data: Mapping[str, Any]) -> Automation:
    """Replace the parts given in `data` (a part is replaced whole: a new `actions` list
    replaces the old list) and re-validate the merged definition.

    The seed's rule, for the API, the builder and the admin alike: an update that changes the
    automation disables it, so the change is tested before it runs on live records; it bumps
    `version` and stores the new version. `"enabled": true` beside a change is refused (400)
    rather than silently ignored or obeyed: enabling is its own step. An update that changes
    nothing (the same values sent back) neither disables nor makes a version; `"enabled"` in
    it, or alone, enables or disables as POST .../enable and .../disable do.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed([("", "the request body must be a JSON object")])
    if not data:
        raise ValidationFailed([("", "give at least one field to update")])
    # Lock the row: two concurrent updates must not both write version N+1, and the columns
    # the engine updates (run_count, consecutive_failures) are not written from a stale copy.
    locked = Automation.objects.select_for_update().get(pk=automation.pk)
    current = automation_definition(locked)
    if all(
        key in current and _same_json(value, current[key])
        for key, value in data.items()
        if key != "enabled"
    ):
        # Nothing but, perhaps, the state: POST .../enable or .../disable, which do not
        # re-validate. A definition stored before a newer save-time rule (a loopback webhook
        # URL) must still be disabled, alone or with its own values sent back.
        if "enabled" not in data:
            return locked
        problems = enabled_problems(data["enabled"])
        if problems:
            raise ValidationFailed(problems)
        return _set_enabled(locked, data["enabled"])
    merged = {**current, **data}
    if Trigger.from_json(merged["trigger"]).type != WEBHOOK and "webhook_secret" not in data:
        merged.pop("webhook_secret", None)  # a secret belongs to the webhook trigger it signed
    cleaned = validate_definition(
        workspace=locked.workspace, data=merged, instance=locked
    ).as_json()

    changed = not _same_json(_versioned(cleaned), _versioned(current)) or (
        cleaned.get("webhook_secret", "") != locked.webhook_secret
    )
    if not changed:
        if "enabled" in data:
            return _set_enabled(locked, cleaned["enabled"])
        return locked
    if data.get("enabled") is True:
        raise _enable_refused(locked)
    _apply_definition(locked, cleaned)
    locked.enabled = False
    locked.next_run_at = None
    locked.version += 1
    _save(locked, update_fields=_UPDATE_FIELDS)
    AutomationVersion.objects.create(
        automation=locked,
        version=locked.version,
        definition=_versioned(cleaned),
        created_by=_actor(user),
    )
    invalidate_automation_cache(locked.workspace_id)
    return locked


@transaction.atomic
def automation_delete(*, automation: Automation) -> None:
    """Delete the automation with its versions and runs (logs)."""
    workspace_id = automation.workspace_id
    Automation.objects.filter(pk=automation.pk).delete()
    invalidate_automation_cache(workspace_id)


@transaction.atomic
def automation_set_enabled(*, automation: Automation, enabled: bool) -> Automation:
    """Enable (clearing the circuit breaker's reason and failure count, and scheduling the next
    run of a schedule trigger) or disable (no next run)."""
    return _set_enabled(Automation.objects.select_for_update().get(pk=automation.pk), enabled)


def _set_enabled(locked: Automation, enabled: bool) -> Automation:
    """automation_set_enabled on a row the caller has locked."""
    fields = ["enabled", "next_run_at", "updated_at"]
    if enabled:
        # An enabled schedule keeps its next run (a due-but-unclaimed one is not skipped).
        if not locked.enabled or locked.next_run_at is None:
            locked.enabled = True
            locked.next_run_at = _next_run_at(locked)
        locked.disabled_reason = None
        locked.consecutive_failures = 0
        fields += ["disabled_reason", "consecutive_failures"]
    else:
        locked.enabled = False
        locked.next_run_at = None
    locked.save(update_fields=fields)
    invalidate_automation_cache(locked.workspace_id)
    return locked


# ---------------------------------------------------------------------------------------------
# Email templates

EMAIL_TEMPLATE_KEYS = frozenset({"name", "subject", "body"})
MAX_SUBJECT_LENGTH = 500
MAX_BODY_LENGTH = 100_000
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class _AnyName:
    """Email templates are shared by automations with different triggers and see the action's
    `data` keys and the record's fields at the top level, so any variable name may be valid:
    only syntax, filters and private names are checked at save time."""

    def __contains__(self, name: object) -> bool:
        return True


def _template_text_problems(value: Any, key: str, max_length: int) -> list[tuple[str, str]]:
    if value is None:
        return [(key, f"{key} is required")]
    if not isinstance(value, str):
        return [(key, f"{key} must be a string, got {type_name(value)}")]
    if not value.strip():
        return [(key, f"{key} must not be empty")]
    if len(value) > max_length:
        return [(key, f"{key} must be at most {max_length} characters")]
    if key == "subject" and ("\n" in value or "\r" in value):
        return [(key, "subject must be one line")]
    return validate_template_value(
        value,
        allowed_roots=_AnyName(),  # type: ignore[arg-type]  # a set that holds every name
        record_fields=None,
        path=key,
    )


def _email_template_problems(
    *, workspace: Workspace, data: Mapping[str, Any], instance: EmailTemplate | None
) -> list[tuple[str, str]]:
    problems = unknown_keys(data, EMAIL_TEMPLATE_KEYS, "")
    if instance is None or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
            problems.append(
                ("name", "name is required: 1-100 letters, digits, '_' or '-' (e.g. welcome_email)")
            )
        else:
            clash = EmailTemplate.objects.filter(workspace=workspace, name=name)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                problems.append(("name", f"an email template '{name}' already exists"))
    for key, limit in (("subject", MAX_SUBJECT_LENGTH), ("body", MAX_BODY_LENGTH)):
        if instance is None or key in data:
            problems += _template_text_problems(data.get(key), key, limit)
    return problems


def _template_in_use(template: EmailTemplate, what: str) -> DomainError:
    users = selectors.automations_using_template(workspace=template.workspace, name=template.name)
    names = ", ".join(f"{a.name} ({a.id})" for a in users)
    return DomainError(
        "template_in_use",
        f"Cannot {what} email template '{template.name}': used by {names}",
        status=409,
        details={"automations": [{"id": a.id, "name": a.name} for a in users]},
    )


@transaction.atomic
def email_template_create(*, workspace: Workspace, data: Mapping[str, Any]) -> EmailTemplate:
    if not isinstance(data, Mapping):
        raise ValidationFailed([("", "the request body must be a JSON object")])
    problems = _email_template_problems(workspace=workspace, data=data, instance=None)
    if problems:
        raise ValidationFailed(problems)
    try:
        with transaction.atomic():
            return EmailTemplate.objects.create(
                workspace=workspace, name=data["name"], subject=data["subject"], body=data["body"]
            )
    except IntegrityError:
        raise ValidationFailed(
            [("name", f"an email template '{data['name']}' already exists")]
        ) from None


@transaction.atomic
def email_template_update(*, template: EmailTemplate, data: Mapping[str, Any]) -> EmailTemplate:
    """Partial update. Renaming a template that automations use is refused with 409 (like
    deleting it), since their send_email actions name it."""
    if not isinstance(data, Mapping):
        raise ValidationFailed([("", "the request body must be a JSON object")])
    problems = _email_template_problems(workspace=template.workspace, data=data, instance=template)
    if problems:
        raise ValidationFailed(problems)
    if "name" in data and data["name"] != template.name:
        if selectors.automations_using_template(workspace=template.workspace, name=template.name):
            raise _template_in_use(template, "rename")
    for key in EMAIL_TEMPLATE_KEYS & set(data):
        setattr(template, key, data[key])
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationFailed(
            [("name", f"an email template '{data['name']}' already exists")]
        ) from None
    return template


@transaction.atomic
def email_template_delete(*, template: EmailTemplate) -> None:
    """Delete an email template.

    Refused with 409 `template_in_use` (details.automations lists their id and name) while any
    automation's send_email action names it: deleting it would make those automations fail at
    run time. Change or delete those automations first.
    """
    if selectors.automations_using_template(workspace=template.workspace, name=template.name):
        raise _template_in_use(template, "delete")
    template.delete()
