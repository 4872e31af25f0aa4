"""Validation of a whole automation definition at save time.

`validate_definition` checks every part (name, trigger, conditions, actions, error handling,
timezone, webhook secret) and raises one ValidationFailed listing ALL the problems, each with
the exact path (`actions[1].config.url`) and the reason. Nothing else in the codebase reads the
raw request dict: it returns a frozen `ValidatedAutomation` (the typed `Definition` of
`automations.definition.model` plus name, description, enabled, timezone and secret), and the
services store its `as_json()`. Readers of a stored automation use `definition_of`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from accounts.models import Workspace
from automations.definition.actions import MAX_ACTIONS, validate_actions
from automations.definition.model import (
    DEFAULT_ERROR_HANDLING,
    DEFINITION_FIELDS,
    DEFINITION_KEYS,
    DEFINITION_PARTS,
    TRIGGER_FIELDS,
    Definition,
    ValidatedAutomation,
    definition_of,
)
from automations.engine.conditions import count_leaves, validate_conditions
from automations.engine.schedule import validate_cron, validate_timezone
from automations.models import Automation
from automations.trigger_types import (
    FIELD_CHANGED,
    MANUAL,
    PREVIOUS_TRIGGERS,
    RECORD_CREATED,
    RECORD_DELETED,
    RECORD_UPDATED,
    SCHEDULE,
    TRIGGER_TYPES,
    WEBHOOK,
)
from automations.validation import (
    DefinitionContext,
    Problems,
    email_problems,
    required_string,
    type_name,
    unknown_keys,
)
from config.api.parsers import enforce_json_policy
from config.errors import ValidationFailed
from records.selectors import field_types_of, module_fields, module_get

__all__ = [
    "DEFAULT_ERROR_HANDLING",
    "DEFINITION_FIELDS",
    "DEFINITION_KEYS",
    "DEFINITION_PARTS",
    "MAX_ACTIONS",
    "MAX_CONDITIONS",
    "Definition",
    "ValidatedAutomation",
    "definition_of",
    "enabled_problems",
    "validate_definition",
]

TRIGGER_KEYS: dict[str, frozenset[str]] = {
    RECORD_CREATED: frozenset({"type", "module"}),
    RECORD_UPDATED: frozenset({"type", "module"}),
    RECORD_DELETED: frozenset({"type", "module"}),
    FIELD_CHANGED: frozenset({"type", "module", "field"}),
    SCHEDULE: frozenset({"type", "schedule"}),
    WEBHOOK: frozenset({"type", "webhook_path"}),
    MANUAL: frozenset({"type", "module"}),
}
MAX_CONDITIONS = 100
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
DEFAULT_TIMEZONE = "UTC"
MAX_DISABLE_AFTER_FAILURES = 100
# Letters, digits, '-' and '_': one URL path segment that needs no escaping.
_WEBHOOK_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix, not a secret)


def enabled_problems(enabled: Any) -> Problems:
    """`enabled` must be a boolean (a definition's, or a PATCH's that only toggles it)."""
    if not isinstance(enabled, bool):
        return [("enabled", f"must be true or false, got {type_name(enabled)}")]
    return []


def validate_definition(
    *, workspace: Workspace, data: Mapping[str, Any], instance: Automation | None = None
) -> ValidatedAutomation:
    """Return the cleaned definition or raise ValidationFailed with every problem found.

    `instance` is the automation being updated (its own webhook_path is not a clash).
    Its `as_json()` has name, description, enabled, trigger, conditions, actions,
    error_handling (defaults filled in), timezone and, when set, webhook_secret.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed([("", "the automation must be a JSON object")])
    # Whatever the entrance (API, builder, admin, seed_demo), before any validator walks it:
    # too deep, non-finite or unstorable JSON never reaches the recursive checks or the row.
    enforce_json_policy(dict(data))
    problems: Problems = unknown_keys(data, DEFINITION_KEYS, "")

    problems += required_string(data, "name", "", max_length=MAX_NAME_LENGTH)
    description = data.get("description")
    if description is None:
        description = ""
    elif not isinstance(description, str):
        problems.append(("description", f"must be a string, got {type_name(description)}"))
    elif len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters"))
    enabled = data.get("enabled", False)
    problems += enabled_problems(enabled)

    trigger_problems, trigger, ctx = _validate_trigger(
        workspace=workspace, trigger=data.get("trigger"), instance=instance
    )
    problems += trigger_problems
    conditions = data.get("conditions")
    if conditions is None:
        conditions = []
    problems += _validate_conditions(conditions, ctx)
    action_problems, actions = validate_actions(data.get("actions"), ctx)
    problems += action_problems
    error_handling, eh_problems = _validate_error_handling(data.get("error_handling"))
    problems += eh_problems

    timezone = data.get("timezone")
    if timezone is None:
        timezone = DEFAULT_TIMEZONE
    else:
        message = validate_timezone(timezone)
        if message:
            problems.append(("timezone", message))

    secret = data.get("webhook_secret") or None
    if secret is not None:
        problems += _webhook_secret_problems(secret, ctx)

    if problems:
        raise ValidationFailed(problems)
    definition = Definition.from_json(
        {
            "trigger": trigger,
            "conditions": conditions,
            "actions": actions,
            "error_handling": error_handling,
        }
    )
    return ValidatedAutomation(
        name=data["name"].strip(),
        description=description,
        enabled=enabled,
        definition=definition,
        timezone=timezone,
        webhook_secret=secret,
    )


def _validate_trigger(
    *, workspace: Workspace, trigger: Any, instance: Automation | None
) -> tuple[Problems, dict[str, Any], DefinitionContext]:
    invalid = DefinitionContext(workspace=workspace, trigger_type=None, module=None)
    if trigger is None:
        return [("trigger", "trigger is required")], {}, invalid
    if not isinstance(trigger, Mapping):
        return [("trigger", f"must be an object, got {type_name(trigger)}")], {}, invalid
    kind = trigger.get("type")
    if "type" not in trigger:
        return [("trigger.type", "type is required")], {}, invalid
    if kind not in TRIGGER_TYPES:
        expected = ", ".join(TRIGGER_TYPES)
        message = f"unknown trigger type {kind!r}; expected one of {expected}"
        return [("trigger.type", message)], {}, invalid

    allowed = TRIGGER_KEYS[kind]
    expected = ", ".join(sorted(allowed))
    extra: Problems = [
        (f"trigger.{key}", f"unknown key '{key}' for a {kind} trigger; expected one of {expected}")
        for key in trigger
        if key not in allowed
    ]
    problems: Problems = []
    module = None
    if "module" in allowed:
        problems += required_string(trigger, "module", "trigger")
        slug = trigger.get("module")
        if isinstance(slug, str) and slug.strip():
            module = module_get(workspace=workspace, slug=slug)
            if module is None:
                problems.append(("trigger.module", f"unknown module '{slug}' in this workspace"))
    if "field" in allowed:
        problems += required_string(trigger, "field", "trigger")
        name = trigger.get("field")
        if module is not None and isinstance(name, str) and name.strip():
            if name not in {f.key for f in module_fields(module)}:
                problems.append(
                    ("trigger.field", f"unknown field '{name}' in module '{module.slug}'")
                )
    if "schedule" in allowed:
        if trigger.get("schedule") is None:
            problems.append(("trigger.schedule", "schedule is required (a cron expression)"))
        else:
            cron_problem = validate_cron(trigger["schedule"])
            if cron_problem:
                problems.append(("trigger.schedule", cron_problem))
    if "webhook_path" in allowed:
        problems += _webhook_path_problems(workspace, trigger.get("webhook_path"), instance)

    cleaned: dict[str, Any] = {
        key: trigger[key] for key in TRIGGER_FIELDS if key in trigger and key in allowed
    }
    if isinstance(cleaned.get("schedule"), str):
        cleaned["schedule"] = " ".join(cleaned["schedule"].split())
    # Conditions and templates are only checked against a trigger that is itself valid: a typo
    # in the module name must not also produce an error for every field the actions use.
    # (An extra key does not make the rest of the trigger unusable.)
    valid = not problems
    ctx = DefinitionContext(
        workspace=workspace, trigger_type=kind, module=module, trigger_valid=valid
    )
    return extra + problems, cleaned, ctx


def _webhook_path_problems(
    workspace: Workspace, path: Any, instance: Automation | None
) -> Problems:
    if path is None:
        return [("trigger.webhook_path", "webhook_path is required")]
    if not isinstance(path, str) or not _WEBHOOK_PATH.match(path):
        return [
            (
                "trigger.webhook_path",
                "must be 1-128 letters, digits, '-' or '_', starting with a letter or digit",
            )
        ]
    clash = Automation.objects.filter(workspace=workspace, webhook_path=path)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    other = clash.only("id", "name").first()
    if other is not None:
        return [
            (
                "trigger.webhook_path",
                f"'{path}' is already used by automation {other.id} ({other.name})",
            )
        ]
    return []


def _validate_conditions(conditions: Any, ctx: DefinitionContext) -> Problems:
    if not conditions:
        return []
    if ctx.trigger_valid and not ctx.has_record:
        return [
            (
                "conditions",
                f"a {ctx.trigger_type} trigger has no record to test conditions against; "
                "conditions need a record or manual trigger",
            )
        ]
    count = count_leaves(conditions)
    if count > MAX_CONDITIONS:
        return [("conditions", f"at most {MAX_CONDITIONS} conditions, got {count}")]
    if not ctx.trigger_valid:
        # Without a valid trigger the fields are unknown: check the structure only.
        problems = validate_conditions(conditions, field_types={}, has_previous=True)
        return [
            (path, message) for path, message in problems if not message.startswith("unknown field")
        ]
    assert ctx.module is not None
    return validate_conditions(
        conditions,
        field_types=field_types_of(ctx.module),
        has_previous=ctx.trigger_type in PREVIOUS_TRIGGERS,
    )


def _validate_error_handling(value: Any) -> tuple[dict[str, Any], Problems]:
    if value is None:
        return dict(DEFAULT_ERROR_HANDLING), []
    if not isinstance(value, Mapping):
        return {}, [("error_handling", f"must be an object, got {type_name(value)}")]
    problems = unknown_keys(value, set(DEFAULT_ERROR_HANDLING), "error_handling")
    cleaned = {
        **DEFAULT_ERROR_HANDLING,
        **{k: v for k, v in value.items() if k in DEFAULT_ERROR_HANDLING},
    }
    if not isinstance(cleaned["notify_on_failure"], bool):
        problems.append(("error_handling.notify_on_failure", "must be true or false"))
    if cleaned["notify_email"] is not None:
        problems += email_problems(
            cleaned["notify_email"], "error_handling.notify_email", allow_list=False
        )
        if isinstance(cleaned["notify_email"], str) and "{{" in cleaned["notify_email"]:
            problems.append(("error_handling.notify_email", "must be a plain email address"))
    limit = cleaned["disable_after_failures"]
    if isinstance(limit, bool) or not isinstance(limit, int):
        problems.append(
            (
                "error_handling.disable_after_failures",
                f"must be a whole number from 1 to {MAX_DISABLE_AFTER_FAILURES}",
            )
        )
    elif not 1 <= limit <= MAX_DISABLE_AFTER_FAILURES:
        problems.append(
            (
                "error_handling.disable_after_failures",
                f"must be between 1 and {MAX_DISABLE_AFTER_FAILURES}",
            )
        )
    return cleaned, problems


def _webhook_secret_problems(secret: Any, ctx: DefinitionContext) -> Problems:
    if ctx.trigger_type != WEBHOOK:
        return [("webhook_secret", "only webhook triggers have a secret")]
    if not isinstance(secret, str) or not secret.startswith(_WEBHOOK_SECRET_PREFIX):
        return [("webhook_secret", "must be a Standard Webhooks secret: whsec_ + base64")]
    encoded = secret[len(_WEBHOOK_SECRET_PREFIX) :]
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 24 or len(raw) > 64:
        return [("webhook_secret", "must encode 24 to 64 random bytes in base64 after whsec_")]
    return []
