"""Writing runs (the transactional outbox), marking them as handed over to the workers
(runtime.handover publishes them), and the run services the API calls: run_manual (a manual
trigger) and run_retry (resume a failed run).

A run is written in the caller's transaction (for record triggers: the record change's own
transaction) and published only after that commits, so a rolled-back change never runs and a
committed one is never lost: if publishing fails, `dispatched_at` stays empty and the relay
(automations.runtime.relay) publishes it on its next tick.

The cause chain on a run, {"root", "depth", "visited": ["auto_x:rec_y", ...]}, is passed by
actions to records.services as `cause`, so the record events they cause carry it on; see
`chain_for`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from automations.context import user_snapshot
from automations.definition.model import definition_of
from automations.engine.conditions import ConditionError, evaluate_conditions
from automations.models import Automation, Run
from automations.runtime import handover
from automations.runtime.outcome import after_final
from automations.runtime.sql import insert_run
from automations.trigger_types import MANUAL
from config.errors import DomainError
from config.ids import make_id
from records.models import Record
from records.selectors import field_types_of, module_fields
from records.services import record_snapshot

logger = logging.getLogger(__name__)

CONDITION_FAILED = "condition_evaluation_failed"
LOOP_DETECTED = "loop_detected"
CHAIN_TOO_DEEP = "chain_depth_exceeded"


# ---------------------------------------------------------------------------------------------
# Handing over


# Runs created together (a bulk record change, the schedule dispatcher) are handed over this
# many ids at once: one push to the ready list with Redis, one Celery message
# (automations.execute_runs) on the embedded broker.
PUBLISH_BATCH = 1_000


def dispatch(run_id: str, *, countdown: float | None = None) -> bool:
    """Mark the run as handed over, then publish it. A failure here loses nothing: the mark is
    undone and the relay publishes the run later."""
    now = timezone.now()
    try:
        marked = Run.objects.filter(id=run_id, status__in=Run.ACTIVE_STATUSES).update(
            dispatched_at=now
        )
    except DatabaseError:
        # Called after commit: the run is committed and still unmarked, so the relay publishes
        # it. A connection lost just now must not fail the request whose change committed.
        logger.warning("Could not mark run %s as handed over; the relay will", run_id)
        return False
    if not marked:
        return False  # already claimed, finished or deleted
    return publish_marked(run_id, marked_at=now, countdown=countdown)


def publish_marked(run_id: str, *, marked_at: datetime, countdown: float | None = None) -> bool:
    """Publish a run marked as handed over at `marked_at` (by its INSERT, or by dispatch()'s
    UPDATE): for a run written marked, dispatch() without its UPDATE, one statement and one
    commit fewer. If publishing fails the mark is undone and the relay publishes the run on its
    next tick; were the process to die between the commit and the publish, the relay publishes
    the run once the mark is AUTOMATIONS_REDISPATCH_AFTER old. A run nobody else can have
    published (the relay leaves marked runs alone) needs no check that it is still pending."""
    if handover.publish([run_id], countdown=countdown):
        return True
    try:
        Run.objects.filter(id=run_id, dispatched_at=marked_at).update(dispatched_at=None)
    except DatabaseError:
        # Still marked: the relay publishes it again after AUTOMATIONS_REDISPATCH_AFTER.
        logger.warning("Could not unmark run %s after a failed publish", run_id)
    return False


def dispatch_many(run_ids: list[str]) -> int:
    """dispatch() for many runs, PUBLISH_BATCH ids per message; returns how many were handed
    over. Whatever is not (broker or database unreachable) is left to the relay."""
    handed = 0
    for start in range(0, len(run_ids), PUBLISH_BATCH):
        batch = run_ids[start : start + PUBLISH_BATCH]
        now = timezone.now()
        try:
            marked = Run.objects.filter(id__in=batch, status__in=Run.ACTIVE_STATUSES).update(
                dispatched_at=now
            )
            if not marked:
                continue
            if not handover.publish(batch):
                Run.objects.filter(id__in=batch, dispatched_at=now).update(dispatched_at=None)
                break
        except DatabaseError:
            logger.warning("Could not hand %s runs over; the relay will", len(run_ids) - handed)
            break
        handed += len(batch)
    return handed


# ---------------------------------------------------------------------------------------------
# Chains (loop protection)


def new_root() -> str:
    return make_id("evt")


def chain_for(
    *,
    cause: dict[str, Any] | None,
    automation_id: str,
    record_id: str | None,
    root: str | None = None,
) -> tuple[dict[str, Any], str, str]:
    """The chain of a run this event starts, and (error_code, reason) when it must be blocked.

    An automation never runs twice for the same record within one chain (a self-updating
    automation, or A updates B updates A), and a chain stops at AUTOMATIONS_MAX_CHAIN_DEPTH
    runs. A run started by a person, a schedule or a webhook has depth 1.
    """
    key = f"{automation_id}:{record_id or '-'}"
    cause = cause if isinstance(cause, dict) else {}
    visited = [str(v) for v in cause.get("visited") or []]
    depth = int(cause.get("depth") or 0) + 1
    chain = {
        "root": cause.get("root") or root or new_root(),
        "depth": depth,
        "visited": [*visited, key],
    }
    if key in visited:
        where = f"record {record_id}" if record_id else "this event"
        return (
            chain,
            LOOP_DETECTED,
            (
                f"Loop protection: automation {automation_id} already ran for {where} "
                "in this chain of automations"
            ),
        )
    limit = settings.AUTOMATIONS_MAX_CHAIN_DEPTH
    if depth > limit:
        return (
            chain,
            CHAIN_TOO_DEEP,
            (f"Loop protection: this chain of automations reached the depth limit of {limit}"),
        )
    return chain, "", ""


# ---------------------------------------------------------------------------------------------
# Creating runs


def trigger_data_for(
    *,
    event: str,
    record: dict | None = None,
    previous: dict | None = None,
    changed_fields: list[str] | None = None,
    user: Any = None,
    webhook: dict | None = None,
    scheduled_for: str | None = None,
) -> dict[str, Any]:
    """The event snapshot stored on a run (shape documented in automations.context)."""
    return {
        "event": event,
        "record_id": (record or {}).get("id"),
        "module": (record or {}).get("module"),
        "record": record,
        "previous": previous,
        "changed_fields": list(changed_fields or []),
        "user": user_snapshot(user) if user is not None and not isinstance(user, dict) else user,
        "webhook": webhook,
        "scheduled_for": scheduled_for,
    }


def _durable_before_publishing() -> None:
    """A transaction that creates runs publishes them after its commit: that commit must be on
    disk first, even on a worker connection that commits asynchronously (config.celery).
    Otherwise a worker could execute a new run (call its webhook) and PostgreSQL then crash
    and lose the transaction that created it; redoing that transaction creates the run again
    under a new id, and the webhook's receiver could not tell the second call from a new
    event. Only chains (an automation's change triggering another) and the schedule
    dispatcher create runs on worker connections; a run's own execution is unaffected."""
    if getattr(connection, "commits_asynchronously", False) and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO on")


def run_create(
    *,
    automation: Automation,
    trigger_data: dict[str, Any],
    chain: dict[str, Any] | None = None,
    conditions_evaluated: list | None = None,
    triggered_by=None,
    status: str = Run.Status.PENDING,
    error_code: str = "",
    error_message: str = "",
    marked: bool = False,
) -> Run:
    """Write a run in the caller's transaction; hand it to Celery only once that commits.

    A run created already finished (blocked by loop protection, or failed because its
    conditions could not be evaluated) is logged and counted on the automation, not queued.

    `marked` (record triggers, inbound webhooks, manual runs): a pending run is written
    already marked as handed over and published after commit by publish_marked, instead of
    being marked by a separate UPDATE (dispatch): one statement and one commit fewer between
    the change's commit and the worker starting the run.
    """
    run = run_build(
        automation=automation,
        trigger_data=trigger_data,
        chain=chain,
        conditions_evaluated=conditions_evaluated,
        triggered_by=triggered_by,
        status=status,
        error_code=error_code,
        error_message=error_message,
    )
    if status == Run.Status.PENDING:
        _durable_before_publishing()
    if marked and status == Run.Status.PENDING:
        marked_at = cast(datetime, run.due_at)  # a pending run is due now (run_build)
        run.dispatched_at = marked_at
        insert_run(run)
        transaction.on_commit(lambda: publish_marked(run.id, marked_at=marked_at))
        return run
    insert_run(run)
    if status == Run.Status.PENDING:
        transaction.on_commit(lambda: dispatch(run.id))
    elif status in Run.FINAL_STATUSES:
        after_final(run=run, automation=automation, status=status, error_code=error_code)
    return run


def runs_create_pending(runs: list[Run]) -> list[Run]:
    """Write many pending runs (from run_build) in the caller's transaction with bulk_create,
    and hand them to Celery once that commits, PUBLISH_BATCH ids per message."""
    if not runs:
        return runs
    _durable_before_publishing()
    Run.objects.bulk_create(runs, batch_size=PUBLISH_BATCH)
    run_ids = [run.id for run in runs]
    transaction.on_commit(lambda: dispatch_many(run_ids))
    return runs


def run_build(
    *,
    automation: Automation,
    trigger_data: dict[str, Any],
    chain: dict[str, Any] | None = None,
    conditions_evaluated: list | None = None,
    triggered_by=None,
    status: str = Run.Status.PENDING,
    error_code: str = "",
    error_message: str = "",
) -> Run:
    """The run that run_create writes, not saved yet."""
    now = timezone.now()
    final = status in Run.FINAL_STATUSES
    return Run(
        automation=automation,
        workspace_id=automation.workspace_id,
        version=automation.version,
        status=status,
        trigger_data=trigger_data,
        conditions_evaluated=conditions_evaluated or [],
        chain=chain or {},
        triggered_by=triggered_by if getattr(triggered_by, "is_authenticated", False) else None,
        record_id=trigger_data.get("record_id") or "",
        due_at=None if final else now,
        error_code=error_code,
        error_message=error_message,
        started_at=now if final else None,
        completed_at=now if final else None,
        duration_ms=0 if final else None,
    )


def evaluate_for_run(
    automation: Automation, *, record: dict, previous: dict | None, field_types: dict[str, str]
) -> tuple[bool, list, str]:
    """(passed, conditions_evaluated, error message if evaluation raised)."""
    conditions = definition_of(automation).conditions
    if not conditions:
        return True, [], ""
    try:
        result = evaluate_conditions(
            conditions.source, record=record, previous=previous, field_types=field_types
        )
    except ConditionError as err:
        return False, [], str(err)
    return result.passed, result.evaluated, ""


def run_manual(*, automation: Automation, record: Record | None, user: Any) -> Run:
    """Run an automation now for `record` (POST /v1/automations/{id}/trigger).

    The conditions are checked against the record as it is now; when they do not pass, nothing
    runs and DomainError `conditions_not_met` (422) lists each condition's outcome. `user` is who
    pressed the button or owns the API key: templates see it as {{user.*}}.
    """
    snapshot = None
    if record is not None:
        snapshot = record_snapshot(record, module_fields(record.module))
    trigger_data = trigger_data_for(event=MANUAL, record=snapshot, user=user)
    chain, _, _ = chain_for(
        cause=None, automation_id=automation.id, record_id=snapshot["id"] if snapshot else None
    )
    evaluated: list = []
    if record is not None and snapshot is not None and automation.conditions:
        passed, evaluated, error = evaluate_for_run(
            automation, record=snapshot, previous=None, field_types=field_types_of(record.module)
        )
        if error:
            return run_create(
                automation=automation,
                trigger_data=trigger_data,
                chain=chain,
                triggered_by=user,
                status=Run.Status.FAILED,
                error_code=CONDITION_FAILED,
                error_message=error,
            )
        if not passed:
            failed = [c for c in evaluated if not c.get("passed")]
            names = ", ".join(f"{c['field']} {c['operator']}" for c in failed)
            raise DomainError(
                "conditions_not_met",
                f"The record does not meet the automation's conditions ({names})",
                status=422,
                details={"conditions_evaluated": evaluated},
            )
    return run_create(
        automation=automation,
        trigger_data=trigger_data,
        chain=chain,
        conditions_evaluated=evaluated,
        triggered_by=user,
        marked=True,
    )


def run_retry(*, run: Run, user: Any) -> Run:
    """Resume a failed run at the action that failed (earlier actions are not repeated).

    Raises DomainError `run_not_retryable` (409) unless the run failed in an action.
    """
    if run.status != Run.Status.FAILED or run.error_code == CONDITION_FAILED:
        raise DomainError(
            "run_not_retryable",
            f"Only a run that failed in an action can be retried; this run is {run.status}"
            + (" (its conditions could not be evaluated)" if run.status == "failed" else ""),
            status=409,
        )
    now = timezone.now()
    context = {
        **(run.context or {}),
        "retried": int((run.context or {}).get("retried") or 0) + 1,
        "retried_by": getattr(user, "id", None),
    }
    with transaction.atomic():
        updated = Run.objects.filter(id=run.id, status=Run.Status.FAILED).update(
            status=Run.Status.PENDING,
            attempts=0,
            due_at=now,
            dispatched_at=now,  # handed over after commit, as run_create(marked=True) does
            lease_expires_at=None,
            error_code="",
            error_message="",
            completed_at=None,
            context=context,
        )
        if not updated:
            raise DomainError("run_not_retryable", "The run is no longer failed", status=409)
        transaction.on_commit(lambda: publish_marked(run.id, marked_at=now))
    run.refresh_from_db()
    return run
