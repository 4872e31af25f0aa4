"""Executing a run: claim it, run its actions in order from next_action_index, finish it.

Claiming is one conditional UPDATE (only one worker can move a run from pending/waiting/
retrying to running) that also sets a lease. The worker renews the lease before each action;
if it dies, the relay reclaims the run when the lease expires and it resumes where it stopped.

Exactly once for database actions: update_record, create_record and send_notification run
inside one transaction with their ActionRun row and the run's next_action_index, after the run
row has been locked and checked to still be ours (status running, our lease, this index). So a
crash before commit leaves no trace and the action runs again; a crash after commit moves on.
External actions (send_email, call_webhook) are at least once: their ActionRun is written
first, then they act, then the outcome and the new index commit together; a crash in between
repeats the call with the same idempotency key (Message-ID, webhook-id).

`attempts` has one meaning, on the run and on its actions' logs: how many times the run's
current action (once the run is over, the action it ended on) has been tried, the try under
way or just finished included. An action's `attempt` is that number for its try; the run's
`attempts` equals the `attempt` of its current action's log (1 for a success at the first try,
1 + the number of retries for a run that failed after them, e.g. 4 after the default three),
and is 0 while its next action has not been tried yet. A try lost with its worker counts too
(the relay adds it when it reclaims the run).

Delays and retries never sleep: the run is released with status waiting/retrying and due_at,
and is published again by the relay when due (or, for waits shorter than the relay interval,
by a short countdown right away).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.db.models import DateTimeField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Workspace
from automations.actions import ACTIONS, Action, ActionContext, ActionError, Done, Park, Result
from automations.context import template_context
from automations.engine.template_limits import truncated_copy
from automations.engine.templates import TemplateError, render_value
from automations.models import ActionRun, Automation, AutomationVersion, Run
from automations.runtime.breaker import record_outcome
from automations.runtime.completion import complete_success
from automations.runtime.notifications import notify_run_failed
from automations.runtime.runs import dispatch
from config import sqlrows

User = get_user_model()

logger = logging.getLogger(__name__)

_SECRET_KEY = re.compile(
    r"authorization|secret|token|password|passwd|api[-_]?key|cookie|signature", re.IGNORECASE
)
REDACTED = "[redacted]"


class LeaseLost(Exception):
    """Another worker owns the run now (ours expired and the relay handed it on)."""


# Time left on the lease after an external action's longest call, for its outcome's commit.
LEASE_MARGIN = 5.0


def lease_seconds() -> float:
    return float(settings.AUTOMATIONS_RUN_LEASE)


def retry_delays() -> list[float]:
    return list(settings.AUTOMATIONS_RETRY_DELAYS)


def redact(value: Any) -> Any:
    """Config as logged on the ActionRun: values under secret-looking keys are hidden (walk a
    truncated_copy, whose depth is bounded)."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEY.search(str(key)) and value[key] else redact(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def crash_error(err: BaseException) -> ActionError:
    """An unexpected exception inside an action (rendering or executing it) as that action's
    failure, `action_crashed`, in words rather than Python's (the traceback goes to the worker
    log, where the caller sends it).

    Permanent unless the exception can be passing (the database or the network): the crash is
    deterministic otherwise (the same definition and event data crash the same way), so three
    retries over 36 minutes would only delay the failure notice and spend worker time, as
    the poison run reclaimed four times over eight minutes did.
    """
    if isinstance(err, RecursionError):
        what = "its data is nested too deeply to process"
    elif isinstance(err, MemoryError):
        what = "it needed more memory than a worker has"
    else:
        what = "an unexpected error occurred in the service (its details are in the worker log)"
    transient = isinstance(err, (DatabaseError, OSError))
    return ActionError("action_crashed", f"The action crashed: {what}", permanent=not transient)


def actions_for(run: Run, automation: Automation) -> list[dict[str, Any]]:
    """The actions of the version the run was created with (a delayed run resumes the
    definition it started with, even if the automation was edited meanwhile)."""
    if run.version == automation.version:
        return list(automation.actions or [])
    definition = (
        AutomationVersion.objects.filter(automation_id=automation.id, version=run.version)
        .values_list("definition", flat=True)
        .first()
    )
    if isinstance(definition, dict) and isinstance(definition.get("actions"), list):
        return definition["actions"]
    return list(automation.actions or [])


def _wake_later(run_id: str, delay: float) -> None:
    """Short waits get a countdown message now; longer ones are published by the relay."""
    if delay <= settings.AUTOMATIONS_RELAY_INTERVAL:
        transaction.on_commit(lambda: dispatch(run_id, countdown=max(delay, 0)))


# ---------------------------------------------------------------------------------------------
# Finishing


def after_final(*, run: Run, automation: Automation, status: str, error_code: str = "") -> None:
    """Bookkeeping for a run that just reached a final status (in the caller's transaction):
    counters and circuit breaker on the automation, failure notices after commit."""
    tripped = record_outcome(run=run, automation=automation, status=status, error_code=error_code)
    if status == Run.Status.FAILED:
        run_id = run.id
        transaction.on_commit(lambda: notify_run_failed(run_id=run_id, tripped=tripped))


def finish(
    run: Run,
    automation: Automation,
    *,
    status: str,
    error_code: str = "",
    error_message: str = "",
    expect: dict[str, Any],
    duration: int | None = None,
    **changes: Any,
) -> bool:
    """Move a running run to a final status if `expect` still holds; False if it did not.
    `duration`: the total of its action runs when the caller knows it; `changes`: further
    columns written in the same UPDATE."""
    now = timezone.now()
    if duration is None:
        duration = (
            ActionRun.objects.filter(run_id=run.id)
            .exclude(type="delay")
            .aggregate(total=Sum("duration_ms"))["total"]
            or 0
        )
    updated = Run.objects.filter(id=run.id, **expect).update(
        status=status,
        completed_at=now,
        duration_ms=duration,
        lease_expires_at=None,
        due_at=None,
        error_code=error_code,
        error_message=error_message[:5000],
        **changes,
    )
    if not updated:
        return False
    run.status = status
    after_final(run=run, automation=automation, status=status, error_code=error_code)
    return True


# ---------------------------------------------------------------------------------------------
# Claiming


def claim(run_id: str, *, now: datetime) -> datetime | None:
    """Take the run if it is runnable and due; returns our lease, or None if we did not win."""
    lease = now + timedelta(seconds=lease_seconds())
    won = Run.objects.filter(
        Q(due_at__isnull=True) | Q(due_at__lte=now),
        id=run_id,
        status__in=Run.ACTIVE_STATUSES,
    ).update(
        status=Run.Status.RUNNING,
        lease_expires_at=lease,
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
    )
    return lease if won else None


def _requeue_if_early(run_id: str, now: datetime) -> None:
    """A countdown message may arrive a moment before due_at: publish it again for then."""
    due = (
        Run.objects.filter(id=run_id, status__in=Run.ACTIVE_STATUSES, due_at__gt=now)
        .values_list("due_at", flat=True)
        .first()
    )
    if due is not None:
        wait = (due - now).total_seconds()
        if wait <= settings.AUTOMATIONS_RELAY_INTERVAL:
            dispatch(run_id, countdown=wait + 0.01)


@cache
def _lock_and_load_sql() -> str:
    active = ", ".join(["%s"] * len(Run.ACTIVE_STATUSES))
    # Only model metadata is formatted into the SQL; every value is a parameter.
    return (
        f"SELECT {sqlrows.select_list(Run, 'r')}, {sqlrows.select_list(Automation, 'a')},"  # noqa: S608
        f" {sqlrows.select_list(Workspace, 'w')}, {sqlrows.select_list(User, 'u')} "
        "FROM automations_run r JOIN automations_automation a ON a.id = r.automation_id"
        " JOIN accounts_workspace w ON w.id = r.workspace_id"
        " LEFT JOIN auth_user u ON u.id = r.triggered_by_id"
        f" WHERE r.id = %s AND r.status IN ({active}) AND (r.due_at IS NULL OR r.due_at <= %s)"
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


class _Redo(Exception):
    """An action failed during an optimistic execution: roll it all back and execute again
    with a savepoint around each action, so that its failure can be logged."""


def execute(run_id: str, *, optimistic: bool = True) -> str | None:
    """Run what is due of this run; returns the status it was left in, or None if this worker
    did not get the run (someone else has it, it is not due, or it is finished).

    A run whose remaining actions all write only to this database is claimed, executed and
    finished in one transaction. `optimistic` runs those actions without a savepoint each
    (two round trips per action fewer): if one fails, the whole transaction rolls back, the
    claim included, and the run is executed again at once with savepoints, where the failure
    is logged and handled (retry, fail) as usual.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            run = lock_and_load(run_id, now=now)
            if run is None:
                execution = None
            else:
                execution = _Execution(run, started=now)
                if execution.database_only():
                    # The row lock taken above is the claim: actions and outcome commit
                    # together with it, and no other worker can take the run until then. The
                    # run's row is written once, when it ends (no "running" state is ever
                    # visible, nor needed: a crash rolls everything back).
                    execution.locked = True
                    execution.optimistic = optimistic
                    return execution.execute()
                # Actions with effects outside the database: commit a claim with a lease, so
                # that a worker that dies midway leaves the run for the relay to reclaim.
                execution.lease = claim(run_id, now=now)
    except _Redo:
        return execute(run_id, optimistic=False)
    if execution is None:
        _requeue_if_early(run_id, now)
        return None
    try:
        return execution.execute()
    except LeaseLost:
        logger.warning("Run %s was taken over by another worker; stopping here", run_id)
        return None


# ---------------------------------------------------------------------------------------------
# The loop


class _Execution:
    def __init__(self, run: Run, *, started: datetime) -> None:
        self.run = run
        self.automation = run.automation
        # Set by claim() unless the execution is locked (one transaction holding the row).
        self.lease: datetime | None = None
        self.started = started
        self.actions = actions_for(run, self.automation)
        # True when the whole execution is one transaction that holds the run's row lock.
        self.locked = False
        # True (only when locked) while actions run without savepoints: see execute().
        self.optimistic = False
        self.first_index = run.next_action_index
        # Durations of the actions done here, by index: when the execution started at the
        # first action, they are all the run's action runs (no SUM query to finish it).
        self.durations: dict[int, int] = {}

    def database_only(self) -> bool:
        """Whether every action left to run writes only to this database."""
        remaining = self.actions[self.run.next_action_index :]
        return all(
            getattr(ACTIONS.get(str(spec.get("type"))), "transactional", False)
            for spec in remaining
        )

    def _duration(self) -> int | None:
        return sum(self.durations.values()) if self.first_index == 0 else None

    # --- ownership -----------------------------------------------------------------------

    def _renew_lease(self, now: datetime, *, at_least: float = 0.0) -> None:
        """Make sure our lease outlasts what comes next: half a lease at least, and `at_least`
        seconds (an external action's longest call) plus LEASE_MARGIN for its outcome's commit.
        """
        if self.locked:
            return  # the row lock is held until the execution commits
        # A lease with enough left (just claimed, or renewed by an earlier action) is not
        # renewed: that saves a write and a commit per action. Ownership is checked by _fence.
        needed = at_least + LEASE_MARGIN if at_least else 0.0
        if self.lease - now > timedelta(seconds=max(lease_seconds() / 2, needed)):
            return
        lease = now + timedelta(seconds=max(lease_seconds(), needed))
        renewed = Run.objects.filter(
            id=self.run.id, status=Run.Status.RUNNING, lease_expires_at=self.lease
        ).update(lease_expires_at=lease)
        if not renewed:
            raise LeaseLost
        self.lease = lease

    def _transaction(self):
        """A step's transaction; when locked, the execution's own (no savepoint needed: any
        error there rolls the whole execution back, claim included)."""
        return transaction.atomic(savepoint=not self.locked)

    def _fence(self, index: int) -> None:
        """Inside a transaction: lock the run row and check it is still ours at `index`."""
        if self.locked:
            return  # the claim in this very transaction holds the lock
        try:
            row = (
                Run.objects.select_for_update()
                .values_list("status", "lease_expires_at", "next_action_index")
                .get(id=self.run.id)
            )
        except Run.DoesNotExist:
            raise LeaseLost from None
        if row != (Run.Status.RUNNING, self.lease, index):
            raise LeaseLost

    def _mine(self, index: int) -> dict[str, Any]:
        """What the run row must still hold for this worker to write its outcome."""
        if self.locked:
            return {}  # the row lock taken by lock_and_load: nobody else can have changed it
        return {
            "status": Run.Status.RUNNING,
            "lease_expires_at": self.lease,
            "next_action_index": index,
        }

    def _claimed(self) -> dict[str, Any]:
        """Columns a locked execution writes with the run's outcome, since its claim (a row
        lock) wrote nothing."""
        if not self.locked:
            return {}
        return {"started_at": Coalesce(F("started_at"), Value(self.started, DateTimeField()))}

    # --- steps ---------------------------------------------------------------------------

    def execute(self) -> str:
        self._close_finished_delay()
        while self.run.next_action_index < len(self.actions):
            index = self.run.next_action_index
            outcome = self._step(index, self.actions[index])
            if outcome is not None:
                return outcome
        with self._transaction():
            self._fence(len(self.actions))
            finish(
                self.run,
                self.automation,
                status=Run.Status.SUCCESS,
                expect=self._mine(len(self.actions)),
                duration=self._duration(),
                **self._claimed(),
            )
        return Run.Status.SUCCESS

    def _close_finished_delay(self) -> None:
        index = self.run.next_action_index - 1
        if 0 <= index < len(self.actions) and getattr(
            ACTIONS.get(str(self.actions[index].get("type"))), "parks", False
        ):
            ActionRun.objects.filter(
                run_id=self.run.id, index=index, status=ActionRun.Status.WAITING
            ).update(status=ActionRun.Status.SUCCESS, completed_at=timezone.now())

    def _step(self, index: int, spec: dict[str, Any]) -> str | None:
        """Run one action; None means go on with the next one."""
        now = timezone.now()
        kind = str(spec.get("type"))
        raw_config = spec.get("config") or {}
        action = ACTIONS.get(kind)
        context = template_context(
            automation_id=self.automation.id,
            trigger_data=self.run.trigger_data or {},
            now=now,
            run_id=self.run.id,
        )
        config, error = raw_config, None
        if action is None:
            error = ActionError("unknown_action", f"Unknown action type {kind!r}", permanent=True)
        elif action.templated:
            try:
                config = render_value(raw_config, context, path=f"actions[{index}].config")
            except TemplateError as err:
                error = ActionError("template_render_failed", str(err), permanent=True)
            except Exception as err:  # RecursionError and MemoryError are Exceptions too
                logger.exception("Rendering action %s of run %s crashed", index, self.run.id)
                config, error = raw_config, crash_error(err)
        external = error is None and not action.transactional
        self._renew_lease(now, at_least=action.max_seconds(config) if external else 0.0)
        ctx = ActionContext(
            run=self.run,
            automation=self.automation,
            workspace=self.run.workspace,
            index=index,
            now=now,
            template_context=context,
            actor=self.run.triggered_by,
            raw_config=raw_config if isinstance(raw_config, dict) else {},
        )
        if error is None and action is not None and action.parks:
            return self._delay(index, action, config, ctx, now)
        # The action gets its config whole; the log keeps a redacted, bounded copy.
        logged = redact(truncated_copy(config))
        attempt = self.run.attempts + 1
        if error is None and action.transactional:
            with self._transaction():
                self._fence(index)
                started = time.monotonic()
                output, error = self._call(action, config, ctx, savepoint=not self.optimistic)
                duration = _ms(started)
                if error is not None and self.optimistic:
                    raise _Redo
                if error is None:
                    return self._succeed(index, kind, logged, output, attempt, duration, now)
                return self._fail(index, kind, logged, error, attempt, duration, now)
        with self._transaction():
            self._fence(index)
            self._log(index, kind, logged, attempt, now, status=ActionRun.Status.RUNNING)
        started = time.monotonic()
        output = {}
        if error is None:
            output, error = self._call(action, config, ctx, savepoint=False)
        duration = _ms(started)
        with self._transaction():
            self._fence(index)
            if error is None:
                return self._succeed(index, kind, logged, output, attempt, duration, now)
            return self._fail(index, kind, logged, error, attempt, duration, now)

    def _call(
        self, action: Any, config: Any, ctx: ActionContext, *, savepoint: bool
    ) -> tuple[dict[str, Any], ActionError | None]:
        try:
            if savepoint:
                # The action's own writes roll back alone if it fails; the log row stays.
                with transaction.atomic():
                    return _output(action.execute(config, ctx)), None
            return _output(action.execute(config, ctx)), None
        except ActionError as err:
            return {}, err
        except LeaseLost:
            raise
        except Exception as err:  # RecursionError and MemoryError included
            logger.exception("Action %s of run %s crashed", ctx.index, self.run.id)
            return {}, crash_error(err)

    def _log(
        self,
        index: int,
        kind: str,
        config: Any,
        attempt: int,
        now: datetime,
        *,
        status: str,
        **fields: Any,
    ) -> None:
        defaults = {
            "type": kind,
            "status": status,
            "attempt": attempt,
            "config": config,
            "started_at": now,
            **fields,
        }
        # One INSERT ... ON CONFLICT DO UPDATE of just these fields (update_or_create takes a
        # locking read and two savepoints). No one else writes this run's rows: we hold it.
        ActionRun.objects.bulk_create(
            [ActionRun(run_id=self.run.id, index=index, **defaults)],
            update_conflicts=True,
            unique_fields=["run", "index"],
            update_fields=list(defaults),
        )

    def _succeed(
        self,
        index: int,
        kind: str,
        config: Any,
        output: dict,
        attempt: int,
        duration: int,
        now: datetime,
    ) -> str | None:
        self.durations[index] = duration
        if (
            self.locked
            and index + 1 == len(self.actions)
            and self._duration() is not None
            and sqlrows.available()
        ):
            # The hottest path: one statement instead of the three below (runtime.completion).
            complete_success(
                run=self.run,
                index=index,
                kind=kind,
                attempt=attempt,
                config=config,
                output=output,
                started_at=now,
                completed_at=timezone.now(),
                action_duration=duration,
                run_duration=self._duration(),
                run_started=self.started,
            )
            return Run.Status.SUCCESS
        self._log(
            index,
            kind,
            config,
            attempt,
            now,
            status=ActionRun.Status.SUCCESS,
            duration_ms=duration,
            output=output,
            error_code="",
            error_message="",
            completed_at=timezone.now(),
        )
        if index + 1 == len(self.actions):
            # The last action: the run finishes in this transaction and this UPDATE rather
            # than in one more of its own.
            finish(
                self.run,
                self.automation,
                status=Run.Status.SUCCESS,
                expect=self._mine(index),
                duration=self._duration(),
                next_action_index=index + 1,
                attempts=attempt,  # the tries of its last action (module docstring: attempts)
                **self._claimed(),
            )
            return Run.Status.SUCCESS
        Run.objects.filter(id=self.run.id).update(
            next_action_index=index + 1, attempts=0, error_code="", error_message=""
        )
        self.run.next_action_index = index + 1
        self.run.attempts = 0
        return None

    def _fail(
        self,
        index: int,
        kind: str,
        config: Any,
        error: ActionError,
        attempt: int,
        duration: int,
        now: datetime,
    ) -> str:
        delays = retry_delays()
        retry = not error.permanent and self.run.attempts < len(delays)
        self._log(
            index,
            kind,
            config,
            attempt,
            now,
            status=ActionRun.Status.RETRYING if retry else ActionRun.Status.FAILED,
            duration_ms=duration,
            output=error.output,
            error_code=error.code,
            error_message=error.message[:5000],
            completed_at=timezone.now(),
        )
        self.durations[index] = duration
        if not retry:
            finish(
                self.run,
                self.automation,
                status=Run.Status.FAILED,
                error_code=error.code,
                error_message=error.message,
                expect=self._mine(index),
                duration=self._duration(),
                attempts=attempt,  # the try that failed counts, as the action's log says
                **self._claimed(),
            )
            return Run.Status.FAILED
        delay = delays[self.run.attempts]
        Run.objects.filter(id=self.run.id).update(
            status=Run.Status.RETRYING,
            attempts=attempt,
            due_at=timezone.now() + timedelta(seconds=delay),
            lease_expires_at=None,
            dispatched_at=None,
            error_code=error.code,
            error_message=error.message[:5000],
            **self._claimed(),
        )
        _wake_later(self.run.id, delay)
        return Run.Status.RETRYING

    def _delay(
        self, index: int, action: Action, config: Any, ctx: ActionContext, now: datetime
    ) -> str:
        """Park the run in the database for the seconds the action answers (see delay)."""
        try:
            result = action.execute(config, ctx)
            if not isinstance(result, Park):
                raise TypeError(f"{action.type} parks but answered {type(result).__name__}")
        except ActionError as err:
            with transaction.atomic():
                self._fence(index)
                return self._fail(index, action.type, config, err, self.run.attempts + 1, 0, now)
        seconds = result.seconds
        resume_at = now + timedelta(seconds=seconds)
        with transaction.atomic():
            self._fence(index)
            self._log(
                index,
                action.type,
                config,
                1,
                now,
                status=ActionRun.Status.WAITING,
                duration_ms=seconds * 1000,
                output={"seconds": seconds, "resume_at": resume_at.isoformat()},
                error_code="",
                error_message="",
            )
            Run.objects.filter(id=self.run.id).update(
                status=Run.Status.WAITING,
                next_action_index=index + 1,
                attempts=0,
                due_at=resume_at,
                lease_expires_at=None,
                dispatched_at=None,
            )
            _wake_later(self.run.id, seconds)
        return Run.Status.WAITING


def _output(result: Result) -> dict[str, Any]:
    """What a finished action leaves in its log; only an action that parks answers Park, and
    the executor takes another path for those (Execution._delay)."""
    if not isinstance(result, Done):
        raise TypeError(f"an action that does not park answered {type(result).__name__}")
    return result.output


def _ms(started: float) -> int:
    return max(0, int((time.monotonic() - started) * 1000))
