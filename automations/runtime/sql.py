"""The hot-path statements of the automation runtime: writing a run, locking a run with what its
execution reads, and the one-statement finish of a run whose last action succeeded.

These run once or more for every run (benchmarks S1 and S2), where each round trip to
PostgreSQL and the ORM's statement building cost more than the work itself. Each function runs
its prepared PostgreSQL statement, and anywhere else (SQLite, the zero-setup default) does what
the ORM path does, so callers never choose between them. Table and column names come from the
models' metadata (config.sqlrows), and every statement is built once, at its first use.
tests/runtime/test_hot_path.py holds each statement to the ORM path it replaces.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, Q

from accounts.models import Workspace
from automations.models import ActionRun, Automation, Run
from config import sqlrows

User = get_user_model()


def insert_run(run: Run) -> None:
    """What run.save(force_insert=True) writes, as one prepared statement (sqlrows.insert)."""
    sqlrows.insert(run)


# ---------------------------------------------------------------------------------------------
# Lock and load


@cache
def _lock_and_load_sql() -> str:
    run, col = sqlrows.table(Run), sqlrows.column
    active = ", ".join(["%s"] * len(Run.ACTIVE_STATUSES))
    due_at = f"r.{col(Run, 'due_at')}"
    # Only model metadata is formatted into the SQL; every value is a parameter.
    return (
        f"SELECT {sqlrows.select_list(Run, 'r')}, {sqlrows.select_list(Automation, 'a')},"  # noqa: S608
        f" {sqlrows.select_list(Workspace, 'w')}, {sqlrows.select_list(User, 'u')} "
        f"FROM {run} r JOIN {sqlrows.table(Automation)} a"
        f" ON a.{col(Automation, 'pk')} = r.{col(Run, 'automation')}"
        f" JOIN {sqlrows.table(Workspace)} w"
        f" ON w.{col(Workspace, 'pk')} = r.{col(Run, 'workspace')}"
        f" LEFT JOIN {sqlrows.table(User)} u ON u.{col(User, 'pk')} = r.{col(Run, 'triggered_by')}"
        f" WHERE r.{col(Run, 'pk')} = %s AND r.{col(Run, 'status')} IN ({active})"
        f" AND ({due_at} IS NULL OR {due_at} <= %s)"
        " FOR UPDATE OF r"
    )


def lock_and_load(run_id: str, *, now: datetime) -> Run | None:
    """Inside a transaction: lock the run if it is runnable and due, and read it with its
    automation, workspace and triggering user, in one statement; None if it is not (someone
    else holds it, it is not due, or it is finished). A worker executing the run holds its
    lock, so a second delivery of the same message waits here, then finds it finished."""
    if not sqlrows.available():
        return (
            Run.objects.select_for_update(of=("self",))
            .select_related("automation", "workspace", "triggered_by")
            .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
            .filter(id=run_id, status__in=Run.ACTIVE_STATUSES)
            .first()
        )
    with sqlrows.prepared_cursor() as cursor:
        cursor.execute(_lock_and_load_sql(), [run_id, *Run.ACTIVE_STATUSES, now])
        row = cursor.fetchone()
    if row is None:
        return None
    run_row, automation_row, workspace_row, user_row = sqlrows.split(
        row, Run, Automation, Workspace, User
    )
    run = sqlrows.build(Run, run_row)
    run.automation = sqlrows.build(Automation, automation_row)
    run.workspace = sqlrows.build(Workspace, workspace_row)
    run.triggered_by = sqlrows.build(User, user_row) if run.triggered_by_id else None
    return run


# ---------------------------------------------------------------------------------------------
# The one-statement finish
#
# The last action of a run succeeded, in a locked execution (one transaction that holds the
# run's row, see executor.execute). Three rows change then: the action's ActionRun, the run
# (success, duration, ...) and the automation's counters (breaker.record_outcome for a
# success). Written with the ORM they are three statements and three round trips; here they
# are one statement with two data-modifying CTEs, the same columns and values.

_ACTION_RUN_COLUMNS = (
    "run",
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

_RUN_COLUMNS = (
    "status",
    "completed_at",
    "duration_ms",
    "lease_expires_at",
    "due_at",
    "error_code",
    "error_message",
    "next_action_index",
    "attempts",
    "started_at",
    "pk",
)
_AUTOMATION_COLUMNS = ("last_run_at", "last_run_status", "run_count", "consecutive_failures", "pk")


@cache
def _complete_success_sql() -> str:
    col = sqlrows.column
    columns = ", ".join(col(ActionRun, name) for name in _ACTION_RUN_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_ACTION_RUN_COLUMNS))
    refresh = ", ".join(
        f"{col(ActionRun, name)} = EXCLUDED.{col(ActionRun, name)}"
        for name in _ACTION_RUN_COLUMNS
        if name not in ("run", "index")
    )
    unique = f"{col(ActionRun, 'run')}, {col(ActionRun, 'index')}"
    run = {name: col(Run, name) for name in _RUN_COLUMNS}
    automation = {name: col(Automation, name) for name in _AUTOMATION_COLUMNS}
    return (
        f"WITH logged AS (INSERT INTO {sqlrows.table(ActionRun)} ({columns})"  # noqa: S608
        f" VALUES ({placeholders})"
        f" ON CONFLICT ({unique}) DO UPDATE SET {refresh}),"
        f" finished AS (UPDATE {sqlrows.table(Run)} SET"
        f" {run['status']} = %s, {run['completed_at']} = %s, {run['duration_ms']} = %s,"
        f" {run['lease_expires_at']} = NULL, {run['due_at']} = NULL,"
        f" {run['error_code']} = '', {run['error_message']} = '',"
        f" {run['next_action_index']} = %s, {run['attempts']} = %s,"
        f" {run['started_at']} = COALESCE({run['started_at']}, %s) WHERE {run['pk']} = %s)"
        f" UPDATE {sqlrows.table(Automation)} SET {automation['last_run_at']} = %s,"
        f" {automation['last_run_status']} = %s,"
        f" {automation['run_count']} = {automation['run_count']} + %s,"
        f" {automation['consecutive_failures']} = 0 WHERE {automation['pk']} = %s"
    )


def _json(model: type[Model], name: str, value: Any) -> Any:
    """A JSON value adapted as the model field would adapt it."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]


def complete_success(
    *,
    run: Run,
    index: int,
    kind: str,
    attempt: int,
    config: Any,
    output: dict[str, Any],
    started_at: datetime,
    completed_at: datetime,
    action_duration: int,
    run_duration: int,
    run_started: datetime,
) -> bool:
    """Log the last action as succeeded and finish the run as a success, in one statement;
    True when done. False, with nothing written, where the statement cannot run (SQLite): the
    caller then writes the same rows through the ORM, as for every other outcome."""
    if not sqlrows.available():
        return False
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
        attempt,  # a finished run's attempts: the tries of its last action (runtime.executor)
        run_started,
        run.id,
        completed_at,
        Run.Status.SUCCESS,
        counted,
        run.automation_id,
    ]
    with sqlrows.prepared_cursor() as cursor:
        cursor.execute(_complete_success_sql(), params)
    run.status = Run.Status.SUCCESS
    run.next_action_index = index + 1
    run.attempts = attempt
    return True
