"""Who owns a run while it executes, and how that owner keeps others off it.

Two ways, chosen once when the executor takes a run (automations.runtime.executor.execute):

- RowLock: every action left writes only to this database. The whole execution is one
  transaction that holds the run's row lock (taken when the run was loaded): actions, their
  logs and the outcome commit together, or not at all. Nobody else can write the run meanwhile,
  so there is nothing to fence or renew, and the run's row is written once, when it ends.
  Optimistic (the default), actions run without a savepoint each (two round trips fewer per
  action); if one fails, `action_failed` raises Redo, the whole transaction rolls back and the
  executor runs it again with savepoints, where the failure is logged and handled as usual.
- Lease: some action acts outside the database (email, webhook). The run is claimed by a
  conditional UPDATE that sets a lease and commits, so that a worker dying midway leaves the
  run to the relay, which reclaims it once the lease expires. Each step is its own transaction
  that first locks the run's row and checks it is still ours (fence); the lease is renewed
  before an action that could outlast it.

The executor talks to both through the same methods, so its loop has no branch on which.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce

from automations.models import Run

# Time left on the lease after an external action's longest call, for its outcome's commit.
LEASE_MARGIN = 5.0


class LeaseLost(Exception):
    """Another worker owns the run now (ours expired and the relay handed it on)."""


class Redo(Exception):
    """An action failed during an optimistic execution: roll it all back and execute again
    with a savepoint around each action, so that its failure can be logged."""


def lease_seconds() -> float:
    return float(settings.AUTOMATIONS_RUN_LEASE)


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


class Ownership(Protocol):
    """What the executor needs of a run's owner."""

    # True when the execution is one transaction: the run ends in the transaction of its
    # last action (the single-statement completion is possible only then).
    one_transaction: bool

    def step(self) -> AbstractContextManager[Any]:
        """The transaction of one step (an action and its log, or the run's outcome)."""
        ...

    def action_writes(self) -> AbstractContextManager[Any]:
        """Around a database action's own writes, inside its step."""
        ...

    def action_failed(self) -> None:
        """A database action failed inside its step; may raise Redo."""
        ...

    def fence(self, index: int) -> None:
        """Inside a step: make sure the run is still ours, at action `index`; else LeaseLost."""
        ...

    def renew(self, now: datetime, *, at_least: float = 0.0) -> None:
        """Make sure we still own the run for `at_least` seconds more; else LeaseLost."""
        ...

    def mine(self, index: int) -> dict[str, Any]:
        """What the run row must still hold for this owner to write its outcome."""
        ...

    def claimed(self) -> dict[str, Any]:
        """Columns written with the run's outcome that the claim itself did not write."""
        ...


class RowLock:
    """The execution is one transaction holding the run's row lock (see the module docstring)."""

    one_transaction = True

    def __init__(self, *, started: datetime, optimistic: bool) -> None:
        self.started = started
        self.optimistic = optimistic

    def step(self) -> AbstractContextManager[Any]:
        # The execution's own transaction: no savepoint needed, since any error there rolls
        # the whole execution back, claim included.
        return transaction.atomic(savepoint=False)

    def action_writes(self) -> AbstractContextManager[Any]:
        if self.optimistic:
            return nullcontext()
        # The action's own writes roll back alone if it fails; the log row stays.
        return transaction.atomic()

    def action_failed(self) -> None:
        if self.optimistic:
            raise Redo

    def fence(self, index: int) -> None:
        return  # the row lock taken with the run in this very transaction

    def renew(self, now: datetime, *, at_least: float = 0.0) -> None:
        return  # the row lock is held until the execution commits

    def mine(self, index: int) -> dict[str, Any]:
        return {}  # nobody else can have changed the row we hold locked

    def claimed(self) -> dict[str, Any]:
        # The claim (a row lock) wrote nothing: the run's start is written with its outcome.
        return {"started_at": Coalesce(F("started_at"), Value(self.started, DateTimeField()))}


class Lease:
    """The run is claimed with a lease, renewed as needed and checked at every step."""

    one_transaction = False

    def __init__(self, *, run_id: str, lease: datetime) -> None:
        self.run_id = run_id
        self.lease = lease

    def step(self) -> AbstractContextManager[Any]:
        return transaction.atomic()

    def action_writes(self) -> AbstractContextManager[Any]:
        # The action's own writes roll back alone if it fails; the log row stays.
        return transaction.atomic()

    def action_failed(self) -> None:
        return  # logged and handled in the step, as any failure

    def fence(self, index: int) -> None:
        try:
            row = (
                Run.objects.select_for_update()
                .values_list("status", "lease_expires_at", "next_action_index")
                .get(id=self.run_id)
            )
        except Run.DoesNotExist:
            raise LeaseLost from None
        if row != (Run.Status.RUNNING, self.lease, index):
            raise LeaseLost

    def renew(self, now: datetime, *, at_least: float = 0.0) -> None:
        """Make sure our lease outlasts what comes next: half a lease at least, and `at_least`
        seconds (an external action's longest call) plus LEASE_MARGIN for its outcome's commit.
        """
        # A lease with enough left (just claimed, or renewed by an earlier action) is not
        # renewed: that saves a write and a commit per action. Ownership is checked by fence.
        needed = at_least + LEASE_MARGIN if at_least else 0.0
        if self.lease - now > timedelta(seconds=max(lease_seconds() / 2, needed)):
            return
        lease = now + timedelta(seconds=max(lease_seconds(), needed))
        renewed = Run.objects.filter(
            id=self.run_id, status=Run.Status.RUNNING, lease_expires_at=self.lease
        ).update(lease_expires_at=lease)
        if not renewed:
            raise LeaseLost
        self.lease = lease

    def mine(self, index: int) -> dict[str, Any]:
        return {
            "status": Run.Status.RUNNING,
            "lease_expires_at": self.lease,
            "next_action_index": index,
        }

    def claimed(self) -> dict[str, Any]:
        return {}  # claim() wrote started_at already
