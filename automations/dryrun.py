"""Dry run (POST /automations/{id}/test): what an automation would do for one record, with no
side effect at all. Nothing is written, sent or called: conditions are evaluated and each
action's config is rendered, exactly as the executor would render it, and returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from automations.actions import send_notification
from automations.actions.base import ActionError
from automations.context import template_context, user_snapshot
from automations.definition import ACTION_TYPES
from automations.engine.conditions import (
    CHANGE_OPERATORS,
    ConditionError,
    evaluate_conditions,
    evaluate_leaf,
)
from automations.engine.template_limits import truncated_copy
from automations.engine.templates import TemplateError, render_string, render_value
from automations.models import Automation, EmailTemplate
from automations.representation import schedule_preview
from automations.trigger_types import FIELD_CHANGED, PREVIOUS_TRIGGERS, SCHEDULE
from config.errors import DomainError, ValidationFailed
from records.selectors import field_types_of, module_get
from records.services import record_values_clean


def dry_run(
    *,
    automation: Automation,
    record: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    user: Any,
    now: datetime | None = None,
    webhook: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The seed's dry-run answer: would_execute, conditions_passed, conditions_evaluated
    (field, operator, value, actual_value, passed) and actions_preview (rendered configs),
    plus `notes` explaining anything that would stop or change a real run.

    Works whether or not the automation is enabled (testing before enabling is the point);
    `would_execute` answers "would a real event like this one run the actions?".
    """
    now = now or timezone.now()
    trigger_type = automation.trigger_type
    field_types = field_types_of(automation.module) if automation.module_id else {}
    if trigger_type not in PREVIOUS_TRIGGERS:
        previous = None
    trigger_data = _trigger_data(
        automation=automation, record=record, previous=previous, user=user, webhook=webhook
    )
    notes: list[str] = []

    try:
        result = evaluate_conditions(
            automation.conditions, record=record or {}, previous=previous, field_types=field_types
        )
    except ConditionError as err:
        raise DomainError("condition_evaluation_failed", str(err), status=400) from err
    if not result.passed:
        failed = [entry["field"] for entry in result.evaluated if not entry["passed"]]
        notes.append(f"conditions did not pass: {', '.join(failed)}")

    trigger_matched = True
    if trigger_type == FIELD_CHANGED:
        watched = automation.watched_field
        if previous is None:
            notes.append(
                f"no previous values given: a real run needs '{watched}' to change; "
                "send `previous` to test a change"
            )
        else:
            leaf = {"field": watched, "operator": "changed"}
            trigger_matched = evaluate_leaf(
                leaf, record=record or {}, previous=previous, field_type=field_types.get(watched)
            )["passed"]
            if not trigger_matched:
                notes.append(f"field '{watched}' did not change, so the trigger would not fire")
    elif trigger_type in PREVIOUS_TRIGGERS and previous is None and _uses_change(automation):
        notes.append("no previous values given: changed, changed_to and changed_from are false")
    if not automation.enabled:
        notes.append("the automation is disabled: real events do not run it until it is enabled")

    context = template_context(
        automation_id=automation.id, trigger_data=trigger_data, now=now, run_id=None
    )
    previews = [
        _preview(action, context, automation, f"actions[{index}].config")
        for index, action in enumerate(automation.actions)
    ]
    _preview_emails(automation, previews, context)
    return {
        "would_execute": trigger_matched and result.passed,
        "conditions_passed": result.passed,
        "conditions_evaluated": result.evaluated,
        # Each rendered string is shown up to the length a run's log keeps (the same copy).
        "actions_preview": truncated_copy(previews),
        "enabled": automation.enabled,
        "notes": notes,
    }


def _trigger_data(
    *,
    automation: Automation,
    record: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    user: Any,
    webhook: dict[str, Any] | None,
) -> dict[str, Any]:
    """The same event snapshot a real run stores (see automations.context)."""
    changed: list[str] = []
    if record is not None and previous is not None:
        changed = sorted(
            key
            for key in set(record) | set(previous)
            if key not in ("updated_at",) and record.get(key) != previous.get(key)
        )
    scheduled_for = None
    if automation.trigger_type == SCHEDULE:
        upcoming = schedule_preview(automation)
        scheduled_for = upcoming[0] if upcoming else None
    return {
        "event": automation.trigger_type,
        "record_id": (record or {}).get("id"),
        "module": automation.module.slug if automation.module_id else None,
        "record": record,
        "previous": previous,
        "changed_fields": changed,
        "user": user_snapshot(user),
        "webhook": webhook,
        "scheduled_for": scheduled_for,
    }


def _uses_change(automation: Automation) -> bool:
    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return any(walk(item) for item in node)
        if isinstance(node, dict):
            if "all" in node or "any" in node:
                return walk(node.get("all", node.get("any")))
            return node.get("operator") in CHANGE_OPERATORS
        return False

    return walk(automation.conditions)


def _preview_emails(
    automation: Automation, previews: list[dict[str, Any]], context: dict[str, Any]
) -> None:
    """Add the rendered subject and body of each send_email that names a template, rendered
    the way the send_email action renders it (its `data` keys at the top level)."""
    names = {
        p["config"].get("template")
        for p in previews
        if p["type"] == "send_email" and "error" not in p and p["config"].get("template")
    }
    if not names:
        return
    templates = {
        t.name: t
        for t in EmailTemplate.objects.filter(workspace_id=automation.workspace_id, name__in=names)
    }
    for preview in previews:
        name = preview["config"].get("template") if preview["type"] == "send_email" else None
        if not name or "error" in preview:
            continue
        template = templates.get(name)
        if template is None:
            preview["error"] = {
                "code": "email_delivery_failed",
                "message": f"email template '{name}' not found",
            }
            continue
        data = preview["config"].get("data")
        email_context = {**(data if isinstance(data, dict) else {}), **context}
        try:
            preview["email"] = {
                "subject": " ".join(
                    render_string(template.subject, email_context, path="subject").split()
                ),
                "body": render_string(template.body, email_context, path="body"),
            }
        except TemplateError as err:
            preview["error"] = {
                "code": "template_render_failed",
                "message": f"email template '{name}': {err}",
            }


def _preview(
    action: dict[str, Any], context: dict[str, Any], automation: Automation, path: str
) -> dict[str, Any]:
    kind = action.get("type")
    config = action.get("config") or {}
    spec = ACTION_TYPES.get(kind)
    if spec is None or not spec.templated:
        return {"type": kind, "config": config}
    try:
        rendered = render_value(config, context, path=path)
    except TemplateError as err:
        # A render error is what the real run would fail with; show it instead of failing.
        return {
            "type": kind,
            "config": config,
            "error": {"code": "template_render_failed", "message": str(err)},
        }
    preview: dict[str, Any] = {"type": kind, "config": rendered}
    if kind in RECORD_WRITES and isinstance(rendered, dict):
        _preview_record_write(preview, kind, rendered, automation)
    elif kind == "send_notification" and isinstance(rendered, dict):
        try:
            # The rendered link is checked again when the run sends it (automations.links).
            send_notification.checked_link(rendered.get("link"))
        except ActionError as err:
            preview["error"] = {"code": err.code, "message": err.message}
    return preview


# The config key holding the values each record-writing action stores, and whether it is a
# partial write (an update) or a whole record (a create, whose required fields must be there).
RECORD_WRITES: dict[str, tuple[str, bool]] = {
    "update_record": ("updates", True),
    "create_record": ("data", False),
}


def _preview_record_write(
    preview: dict[str, Any], kind: str, config: dict[str, Any], automation: Automation
) -> None:
    """Show the values as the action will store them, coerced by the target field's type by
    the very function the write uses (records.services.record_values_clean), or the error the
    run would fail with (the same code and message as update_record/create_record give)."""
    key, partial = RECORD_WRITES[kind]
    values = config.get(key)
    if not isinstance(values, dict):
        return
    if kind == "update_record" and config.get("record", "trigger") != "related":
        module = automation.module if automation.module_id else None
        if module is None:
            return  # no trigger record: the run fails for that, as the notes say
    else:
        slug = str(config.get("module") or "")
        module = module_get(workspace=automation.workspace, slug=slug)
        if module is None:
            preview["error"] = {"code": "record_not_found", "message": f"Module '{slug}' not found"}
            return
    try:
        cleaned = record_values_clean(module=module, data=values, partial=partial)
    except ValidationFailed as err:
        preview["error"] = {"code": "validation_error", "message": err.message}
        return
    # Keys the write ignores (the read-only id, module, created_at, updated_at) are dropped.
    preview["config"] = {**config, key: {k: cleaned[k] for k in values if k in cleaned}}
