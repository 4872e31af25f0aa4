"""The executor's hottest write: the last action of a run succeeded, in a locked execution (one
transaction that holds the run's row, see executor.execute).

Three rows change then: the action's ActionRun, the run (success, duration, ...) and the
automation's counters (breaker.record_outcome for a success). Written with the ORM they are
three statements and three round trips to PostgreSQL; here they are one statement with two
data-modifying CTEs, the same columns and values. Everything else (failures, retries, runs
resumed after a delay, executions that are not locked) goes through the ORM path, which this
must stay equal to: tests/runtime/test_hot_path.py compares the rows both paths write.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

from automations.models import ActionRun, Automation, Run
from config import sqlrows

_ACTION_RUN_COLUMNS = (
    "run_id",
    "index",
    "type",
    "status",
    "attempt",
    "duration_ms",
    "error_code",
    "error_message",
    "config",
    "output",
    "started_at",
    "completed_at",
)


@cache
def _sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _ACTION_RUN_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_ACTION_RUN_COLUMNS))
    refresh = ", ".join(
        f"{quote(c)} = EXCLUDED.{quote(c)}"
        for c in _ACTION_RUN_COLUMNS
        if c not in ("run_id", "index")
    )
    return (
        f"WITH logged AS (INSERT INTO {quote(ActionRun._meta.db_table)} ({columns})"  # noqa: S608
        f" VALUES ({placeholders})"
        f' ON CONFLICT ("run_id", "index") DO UPDATE SET {refresh}),'
        f" finished AS (UPDATE {quote(Run._meta.db_table)} SET"
        " status = %s, completed_at = %s, duration_ms = %s, lease_expires_at = NULL,"
        " due_at = NULL, error_code = '', error_message = '', next_action_index = %s,"
        " attempts = %s, started_at = COALESCE(started_at, %s) WHERE id = %s)"
        f" UPDATE {quote(Automation._meta.db_table)} SET last_run_at = %s, last_run_status = %s,"
        " run_count = run_count + %s, consecutive_failures = 0 WHERE id = %s"
    )


def _json(model: type[Model], name: str, value: Any) -> Any:
    """A JSON value adapted as the model field would adapt it."""
    field = cast("Field[Any, Any]", model._meta.get_field(name))
    return field.get_db_prep_save(value, connection)


def complete_success(
    *,
    run: Run,
    index: int,
    kind: str,
    attempt: int,
    config: Any,
    output: dict,
    started_at: datetime,
    completed_at: datetime,
    action_duration: int,
    run_duration: int,
    run_started: datetime,
) -> None:
    """Log the last action as succeeded and finish the run as a success (one statement)."""
    # A run finished again after a manual retry is not counted twice (breaker.record_outcome).
    counted = 0 if (run.context or {}).get("retried") else 1
    params = [
        run.id,
        index,
        kind,
        ActionRun.Status.SUCCESS,
        attempt,
        action_duration,
        "",
        "",
        _json(ActionRun, "config", config),
        _json(ActionRun, "output", output),
        started_at,
        completed_at,
        Run.Status.SUCCESS,
        completed_at,
        run_duration,
        index + 1,
        attempt,  # a finished run's attempts: the tries of its last action (runtime.outcome)
        run_started,
        run.id,
        completed_at,
        Run.Status.SUCCESS,
        counted,
        run.automation_id,
    ]
    with sqlrows.prepared_cursor() as cursor:
        cursor.execute(_sql(), params)
    run.status = Run.Status.SUCCESS
    run.next_action_index = index + 1
    run.attempts = attempt
