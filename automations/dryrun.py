"""Dry run (POST /automations/{id}/test): what an automation would do for one record, with no
side effect at all. Nothing is written, sent or called: conditions are evaluated and each
action previews itself (Action.preview: its config rendered exactly as the executor renders
it, plus what that type's send would do with it), and the previews are returned.

This module owns the orchestration only (the event snapshot, conditions_evaluated, notes, the
list of previews); how one action type looks in a dry run lives in its own module."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django.utils import timezone

from automations.actions import ACTIONS, PreviewContext
from automations.context import template_context, user_snapshot
from automations.definition.model import ActionSpec, definition_of
from automations.engine.conditions import (
    CHANGE_OPERATORS,
    ConditionError,
    evaluate_conditions,
    evaluate_leaf,
)
from automations.engine.template_limits import truncated_copy
from automations.models import Automation
from automations.representation import schedule_preview
from automations.trigger_types import FIELD_CHANGED, PREVIOUS_TRIGGERS, SCHEDULE
from config.errors import DomainError
from records.selectors import field_types_of


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
    module = automation.module  # None, without a query, when the trigger has no module
    field_types = field_types_of(module) if module is not None else {}
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
    # One context for all previews (each a copy naming its path): it looks up each email
    # template once.
    preview_context = PreviewContext(automation=automation, template_context=context, path="")
    previews = [
        _preview(spec, preview_context, f"actions[{index}].config")
        for index, spec in enumerate(definition_of(automation).actions)
    ]
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
    module = automation.module  # None, without a query, when the trigger has no module
    scheduled_for = None
    if automation.trigger_type == SCHEDULE:
        upcoming = schedule_preview(automation)
        scheduled_for = upcoming[0] if upcoming else None
    return {
        "event": automation.trigger_type,
        "record_id": (record or {}).get("id"),
        "module": module.slug if module is not None else None,
        "record": record,
        "previous": previous,
        "changed_fields": changed,
        "user": user_snapshot(user),
        "webhook": webhook,
        "scheduled_for": scheduled_for,
    }


def _uses_change(automation: Automation) -> bool:
    conditions = definition_of(automation).conditions
    return any(leaf.operator in CHANGE_OPERATORS for leaf in conditions.leaves())


def _preview(spec: ActionSpec, ctx: PreviewContext, path: str) -> dict[str, Any]:
    action = ACTIONS.get(spec.type)
    if action is None:
        return {"type": spec.type, "config": spec.config}
    return action.preview(spec.config, replace(ctx, path=path))
