"""How a run ends: moving it to a final status, the bookkeeping that follows (counters, circuit
breaker, failure notices), and the retry policy that decides between retrying an action and
failing the run.

The executor (a run's actions end it), the relay (a worker lost too often) and run creation (a
run written already final: blocked, or its conditions could not be evaluated) all end runs, so
this lives apart from all three and imports none of them: the way a run finishes is the same
whoever finishes it.

`attempts` has one meaning on a run and on its actions' logs: how many times the run's current
action (once the run is over, the action it ended on) has been tried, the try under way or just
finished included. An action's `attempt` is that number for its try; the run's `attempts`
equals the `attempt` of its current action's log (1 for a success at the first try, 1 + the
number of retries for a run that failed after them, e.g. 4 after the default three), and is 0
while its next action has not been tried yet. A try lost with its worker counts too (the relay
adds it when it reclaims the run).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Sum
from django.utils import timezone

from automations.actions import ACTIONS, ActionError
from automations.models import ActionRun, Automation, Run
from automations.runtime.breaker import record_outcome
from automations.runtime.notifications import notify_run_failed

# The longest error message a run or an action run keeps.
MAX_ERROR_MESSAGE = 5000


def retry_delays() -> list[float]:
    """Seconds to wait before each retry of a failed action (AUTOMATIONS_RETRY_DELAYS)."""
    return list(settings.AUTOMATIONS_RETRY_DELAYS)


def max_retries() -> int:
    """How many times a run's current action is tried again before the run fails."""
    return len(retry_delays())


def retry_delay(error: ActionError, *, tries_before: int) -> float | None:
    """Seconds until the failed action is tried again, or None when the run fails now: the
    error is permanent, or the action already had every retry (`tries_before`: the run's
    attempts before this try)."""
    delays = retry_delays()
    if error.permanent or tries_before >= len(delays):
        return None
    return delays[tries_before]


def crash_error(err: BaseException) -> ActionError:
    """An unexpected exception inside an action (rendering or executing it) as that action's
    failure, `action_crashed`, in words rather than Python's (the traceback goes to the worker
    log, where the caller sends it).

    Permanent unless the exception can be passing (the database or the network): the crash is
    deterministic otherwise (the same definition and event data crash the same way), so
    retrying would only delay the failure notice and spend worker time.
    """
    if isinstance(err, RecursionError):
        what = "its data is nested too deeply to process"
    elif isinstance(err, MemoryError):
        what = "it needed more memory than a worker has"
    else:
        what = "an unexpected error occurred in the service (its details are in the worker log)"
    transient = isinstance(err, (DatabaseError, OSError))
    return ActionError("action_crashed", f"The action crashed: {what}", permanent=not transient)


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
    `duration`: the total of its action runs when the caller knows it (otherwise one SUM
    query); `changes`: further columns written in the same UPDATE."""
    now = timezone.now()
    if duration is None:
        duration = (
            ActionRun.objects.filter(run_id=run.id)
            # A parked action's duration_ms is its wait, not work.
            .exclude(type__in=[kind for kind, action in ACTIONS.items() if action.parks])
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
        error_message=error_message[:MAX_ERROR_MESSAGE],
        **changes,
    )
    if not updated:
        return False
    run.status = status
    after_final(run=run, automation=automation, status=status, error_code=error_code)
    return True
