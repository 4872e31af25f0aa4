"""The entrance for record triggers: the receivers of records.signals.record_changed (one
record) and records.signals.records_changed (a bulk change, one signal per batch of records).

They run inside the transaction of the record change, so the runs they write commit or roll
back with the change. Conditions are evaluated here, at event time, against the record exactly
as this change left it and the values it replaced; a run is written only when they pass (or, if
they cannot be evaluated, a failed run with condition_evaluation_failed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from automations.models import Automation, Run
from automations.runtime import matching
from automations.runtime.runs import (
    CONDITION_FAILED,
    chain_for,
    evaluate_for_run,
    new_root,
    run_build,
    run_create,
    runs_create_pending,
    trigger_data_for,
)
from automations.trigger_types import FIELD_CHANGED, RECORD_EVENT_TRIGGERS
from records.selectors import field_types_of


def on_record_changed(
    sender: Any,
    *,
    workspace: Any,
    module: Any,
    event: str,
    record: dict,
    previous: dict | None = None,
    changed_fields: list[str] | None = None,
    actor: Any = None,
    cause: dict | None = None,
    fields: list | None = None,
    **kwargs: Any,
) -> None:
    matched = matching.automations_for(
        workspace_id=workspace.id,
        module_id=module.id,
        trigger_types=RECORD_EVENT_TRIGGERS.get(event, ()),
        changed_fields=changed_fields or (),
    )
    if not matched:
        return  # the common case: no query, nothing queued
    field_types = _field_types(module, fields)
    root = new_root()
    for automation in matched:
        planned = _plan(
            automation,
            event=event,
            record=record,
            previous=previous,
            changed_fields=changed_fields,
            actor=actor,
            cause=cause,
            field_types=field_types,
            root=root,
        )
        if planned is not None:
            run_create(**planned, marked=True)


def on_records_changed(
    sender: Any,
    *,
    workspace: Any,
    module: Any,
    event: str,
    changes: Sequence[Any],
    actor: Any = None,
    cause: dict | None = None,
    fields: list | None = None,
    **kwargs: Any,
) -> None:
    """A bulk change: the same as on_record_changed for each change (record, previous,
    changed_fields), but pending runs are written with one bulk_create and handed over up to
    1,000 at once (runs.dispatch_many)."""
    matched = matching.automations_for(
        workspace_id=workspace.id,
        module_id=module.id,
        trigger_types=RECORD_EVENT_TRIGGERS.get(event, ()),
        changed_fields={field for change in changes for field in change.changed_fields},
    )
    if not matched:
        return
    field_types = _field_types(module, fields)
    pending: list[Run] = []
    for change in changes:
        root = new_root()
        for automation in _watching(matched, change.changed_fields):
            planned = _plan(
                automation,
                event=event,
                record=change.record,
                previous=change.previous,
                changed_fields=change.changed_fields,
                actor=actor,
                cause=cause,
                field_types=field_types,
                root=root,
            )
            if planned is None:
                continue
            if planned.get("status", Run.Status.PENDING) == Run.Status.PENDING:
                pending.append(run_build(**planned))
            else:
                run_create(**planned)  # blocked or failed: logged and counted one by one
    runs_create_pending(pending)


def _field_types(module: Any, fields: list | None) -> dict[str, str]:
    """Field types for conditions, from the fields the records service sent when it did."""
    if fields is None:
        return field_types_of(module)
    return {field.key: field.type for field in fields}


def _watching(automations: Iterable[Automation], changed_fields: Iterable[str]):
    """field.changed automations only concern the changes of their watched field."""
    changed = set(changed_fields)
    return [a for a in automations if a.trigger_type != FIELD_CHANGED or a.watched_field in changed]


def _plan(
    automation: Automation,
    *,
    event: str,
    record: dict,
    previous: dict | None,
    changed_fields: list[str] | None,
    actor: Any,
    cause: dict | None,
    field_types: dict[str, str],
    root: str,
) -> dict[str, Any] | None:
    """The run_create arguments for this automation and event; None when its conditions do
    not pass."""
    # Only updates have previous values; a deleted record's last values are its `record`.
    before = previous if event == "updated" else None
    trigger_data = trigger_data_for(
        event=automation.trigger_type,
        record=record,
        previous=before,
        changed_fields=changed_fields,
        user=actor,
    )
    passed, evaluated, error = evaluate_for_run(
        automation, record=record, previous=before, field_types=field_types
    )
    chain, block_code, block_reason = chain_for(
        cause=cause, automation_id=automation.id, record_id=record.get("id"), root=root
    )
    planned: dict[str, Any] = {
        "automation": automation,
        "trigger_data": trigger_data,
        "chain": chain,
        "triggered_by": actor,
    }
    if error:
        return {
            **planned,
            "status": Run.Status.FAILED,
            "error_code": CONDITION_FAILED,
            "error_message": error,
        }
    if not passed:
        return None
    if block_code:
        return {
            **planned,
            "conditions_evaluated": evaluated,
            "status": Run.Status.BLOCKED,
            "error_code": block_code,
            "error_message": block_reason,
        }
    return {**planned, "conditions_evaluated": evaluated}
