"""The entrance for record triggers: the receiver of records.signals.record_changed.

It runs inside the transaction of the record change, so the runs it writes commit or roll back
with the change. Conditions are evaluated here, at event time, against the record exactly as
this change left it and the values it replaced; a run is written only when they pass (or, if
they cannot be evaluated, a failed run with condition_evaluation_failed).
"""

from __future__ import annotations

from typing import Any

from automations.models import Run
from automations.runtime import matching
from automations.runtime.runs import (
    CONDITION_FAILED,
    chain_for,
    evaluate_for_run,
    new_root,
    run_create,
    trigger_data_for,
)
from automations.trigger_types import RECORD_EVENT_TRIGGERS
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
    **kwargs: Any,
) -> None:
    trigger_types = RECORD_EVENT_TRIGGERS.get(event, ())
    matched = matching.automations_for(
        workspace_id=workspace.id,
        module_id=module.id,
        trigger_types=trigger_types,
        changed_fields=changed_fields or (),
    )
    if not matched:
        return  # the common case: no query, nothing queued
    field_types = field_types_of(module)
    # Only updates have previous values; a deleted record's last values are its `record`.
    before = previous if event == "updated" else None
    root = new_root()
    for automation in matched:
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
        if error:
            run_create(
                automation=automation,
                trigger_data=trigger_data,
                chain=chain,
                triggered_by=actor,
                status=Run.Status.FAILED,
                error_code=CONDITION_FAILED,
                error_message=error,
            )
        elif not passed:
            continue
        elif block_code:
            run_create(
                automation=automation,
                trigger_data=trigger_data,
                chain=chain,
                conditions_evaluated=evaluated,
                triggered_by=actor,
                status=Run.Status.BLOCKED,
                error_code=block_code,
                error_message=block_reason,
            )
        else:
            run_create(
                automation=automation,
                trigger_data=trigger_data,
                chain=chain,
                conditions_evaluated=evaluated,
                triggered_by=actor,
            )
