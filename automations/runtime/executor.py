"""Executing a run: take it, run its actions in order from next_action_index, end it.

Taking a run chooses its owner once (automations.runtime.ownership): a run whose remaining
actions all write only to this database executes in one transaction holding its row lock
(RowLock); any other is claimed with a lease that is renewed before each action and checked at
each step (Lease). The loop below is the same for both.

Exactly once for database actions: update_record, create_record and send_notification run
inside one transaction with their ActionRun row and the run's next_action_index, after the run
row has been checked to still be ours (status running, our lease, this index). So a crash
before commit leaves no trace and the action runs again; a crash after commit moves on.
External actions (send_email, call_webhook) are at least once: their ActionRun is written
first, then they act, then the outcome and the new index commit together; a crash in between
repeats the call with the same idempotency key (Message-ID, webhook-id).

How a run ends and when an action is retried is automations.runtime.outcome's (where the
meaning of `attempts` is written down). Delays and retries never sleep: the run is released
with status waiting/retrying and due_at, and is published again by the relay when due (or, for
waits shorter than the relay interval, by a short countdown right away).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from automations.actions import ACTIONS, Action, ActionContext, ActionError, Done, Park, Result
from automations.context import template_context
from automations.definition.model import ActionSpec, Definition, definition_of
from automations.engine.template_limits import truncated_copy
from automations.engine.templates import TemplateError, render_value
from automations.models import ActionRun, Automation, AutomationVersion, Run
from automations.redaction import redacted_config
from automations.runtime.outcome import MAX_ERROR_MESSAGE, crash_error, finish, retry_delay
from automations.runtime.ownership import (
    Lease,
    LeaseLost,
    Ownership,
    Redo,
    RowLock,
    claim,
)
from automations.runtime.runs import dispatch
from automations.runtime.sql import complete_success, lock_and_load

logger = logging.getLogger(__name__)


def actions_for(run: Run, automation: Automation) -> tuple[ActionSpec, ...]:
    """The actions of the version the run was created with (a delayed run resumes the
    definition it started with, even if the automation was edited meanwhile)."""
    if run.version == automation.version:
        return definition_of(automation).actions
    definition = (
        AutomationVersion.objects.filter(automation_id=automation.id, version=run.version)
        .values_list("definition", flat=True)
        .first()
    )
    if isinstance(definition, dict) and "actions" in definition:
        return Definition.from_json(definition).actions
    return definition_of(automation).actions


def _wake_later(run_id: str, delay: float) -> None:
    """Short waits get a countdown message now; longer ones are published by the relay."""
    if delay <= settings.AUTOMATIONS_RELAY_INTERVAL:
        transaction.on_commit(lambda: dispatch(run_id, countdown=max(delay, 0)))


# ---------------------------------------------------------------------------------------------
# Taking a run


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


def database_only(actions: Sequence[ActionSpec]) -> bool:
    """Whether every one of these actions writes only to this database."""
    return all(getattr(ACTIONS.get(spec.type), "transactional", False) for spec in actions)


def execute(run_id: str, *, optimistic: bool = True) -> str | None:
    """Run what is due of this run; returns the status it was left in, or None if this worker
    did not get the run (someone else has it, it is not due, or it is finished).

    A run whose remaining actions all write only to this database is executed under a RowLock,
    `optimistic` or not (see automations.runtime.ownership); any other under a Lease.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            run = lock_and_load(run_id, now=now)
            execution = None
            if run is not None:
                actions = actions_for(run, run.automation)
                if database_only(actions[run.next_action_index :]):
                    # The row lock taken above is the claim: actions and outcome commit
                    # together with it, and no other worker can take the run until then. The
                    # run's row is written once, when it ends (no "running" state is ever
                    # visible, nor needed: a crash rolls everything back).
                    owner = RowLock(started=now, optimistic=optimistic)
                    return _Execution(run, owner, actions=actions, started=now).execute()
                # Actions with effects outside the database: commit a claim with a lease, so
                # that a worker that dies midway leaves the run for the relay to reclaim. The
                # row is locked by us here, so the claim wins.
                lease = claim(run_id, now=now)
                if lease is not None:
                    lease_owner = Lease(run_id=run_id, lease=lease)
                    execution = _Execution(run, lease_owner, actions=actions, started=now)
    except Redo:
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
    def __init__(
        self,
        run: Run,
        owner: Ownership,
        *,
        actions: Sequence[ActionSpec],
        started: datetime,
    ) -> None:
        self.run = run
        self.automation = run.automation
        self.owner = owner
        self.started = started
        self.actions = actions
        self.first_index = run.next_action_index
        # Durations of the actions done here, by index: when the execution started at the
        # first action, they are all the run's action runs (no SUM query to finish it).
        self.durations: dict[int, int] = {}

    def _duration(self) -> int | None:
        return sum(self.durations.values()) if self.first_index == 0 else None

    def _fence(self, index: int) -> None:
        self.owner.fence(index)

    # --- steps ---------------------------------------------------------------------------

    def execute(self) -> str:
        self._close_finished_delay()
        while self.run.next_action_index < len(self.actions):
            index = self.run.next_action_index
            outcome = self._step(index, self.actions[index])
            if outcome is not None:
                return outcome
        with self.owner.step():
            self._fence(len(self.actions))
            finish(
                self.run,
                self.automation,
                status=Run.Status.SUCCESS,
                expect=self.owner.mine(len(self.actions)),
                duration=self._duration(),
                **self.owner.claimed(),
            )
        return Run.Status.SUCCESS

    def _close_finished_delay(self) -> None:
        index = self.run.next_action_index - 1
        if 0 <= index < len(self.actions) and getattr(
            ACTIONS.get(self.actions[index].type), "parks", False
        ):
            ActionRun.objects.filter(
                run_id=self.run.id, index=index, status=ActionRun.Status.WAITING
            ).update(status=ActionRun.Status.SUCCESS, completed_at=timezone.now())

    def _step(self, index: int, spec: ActionSpec) -> str | None:
        """Run one action; None means go on with the next one."""
        now = timezone.now()
        kind = spec.type
        raw_config = spec.config
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
        at_least = 0.0
        if action is not None and error is None and not action.transactional:
            at_least = action.max_seconds(config)  # an external action's longest call
        self.owner.renew(now, at_least=at_least)
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
        logged = redacted_config(truncated_copy(config))
        attempt = self.run.attempts + 1
        if action is not None and error is None and action.transactional:
            with self.owner.step():
                self._fence(index)
                started = time.monotonic()
                output, error = self._call(action, config, ctx, within=self.owner.action_writes)
                duration = _ms(started)
                if error is not None:
                    self.owner.action_failed()
                if error is None:
                    return self._succeed(index, kind, logged, output, attempt, duration, now)
                return self._fail(index, kind, logged, error, attempt, duration, now)
        with self.owner.step():
            self._fence(index)
            self._log(index, kind, logged, attempt, now, status=ActionRun.Status.RUNNING)
        started = time.monotonic()
        output = {}
        if action is not None and error is None:
            output, error = self._call(action, config, ctx, within=nullcontext)
        duration = _ms(started)
        with self.owner.step():
            self._fence(index)
            if error is None:
                return self._succeed(index, kind, logged, output, attempt, duration, now)
            return self._fail(index, kind, logged, error, attempt, duration, now)

    def _call(
        self,
        action: Action,
        config: Any,
        ctx: ActionContext,
        *,
        within: Callable[[], AbstractContextManager[Any]],
    ) -> tuple[dict[str, Any], ActionError | None]:
        """Execute the action `within` a context (a savepoint for a database action's writes);
        its failure, whatever it raised, as an ActionError."""
        try:
            with within():
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
        run_duration = self._duration()
        if (
            self.owner.one_transaction
            and index + 1 == len(self.actions)
            and run_duration is not None
            # The hottest path: one statement instead of the three below, where the database
            # runs it (runtime.sql).
            and complete_success(
                run=self.run,
                index=index,
                kind=kind,
                attempt=attempt,
                config=config,
                output=output,
                started_at=now,
                completed_at=timezone.now(),
                action_duration=duration,
                run_duration=run_duration,
                run_started=self.started,
            )
        ):
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
                expect=self.owner.mine(index),
                duration=self._duration(),
                next_action_index=index + 1,
                attempts=attempt,  # the tries of its last action (module docstring: attempts)
                **self.owner.claimed(),
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
        delay = retry_delay(error, tries_before=self.run.attempts)
        self._log(
            index,
            kind,
            config,
            attempt,
            now,
            status=ActionRun.Status.FAILED if delay is None else ActionRun.Status.RETRYING,
            duration_ms=duration,
            output=error.output,
            error_code=error.code,
            error_message=error.message[:MAX_ERROR_MESSAGE],
            completed_at=timezone.now(),
        )
        self.durations[index] = duration
        if delay is None:
            finish(
                self.run,
                self.automation,
                status=Run.Status.FAILED,
                error_code=error.code,
                error_message=error.message,
                expect=self.owner.mine(index),
                duration=self._duration(),
                attempts=attempt,  # the try that failed counts, as the action's log says
                **self.owner.claimed(),
            )
            return Run.Status.FAILED
        Run.objects.filter(id=self.run.id).update(
            status=Run.Status.RETRYING,
            attempts=attempt,
            due_at=timezone.now() + timedelta(seconds=delay),
            lease_expires_at=None,
            dispatched_at=None,
            error_code=error.code,
            error_message=error.message[:MAX_ERROR_MESSAGE],
            **self.owner.claimed(),
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
