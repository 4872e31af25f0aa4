"""The interface every action type implements, and the error it raises.

An action executes an already-validated, already-rendered config (automations.definition
checked it at save time; the executor rendered its templates) and returns a JSON-able output
dict that the run's ActionRun keeps. It raises ActionError on failure: `permanent=True` means a
retry cannot help (a missing record, a 404 from a webhook), so the run fails at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from accounts.models import Workspace
from automations.models import Automation, Run


class ActionError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        permanent: bool = False,
        *,
        output: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent
        # What the action learnt before failing (a webhook's status and body), for the log.
        self.output = dict(output or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class ActionContext:
    """What an action may know about the run it belongs to."""

    run: Run
    automation: Automation
    workspace: Workspace
    index: int
    now: datetime
    # The template context the config was rendered with (record, previous, user, now, ...).
    template_context: dict[str, Any]
    actor: Any = None
    # The config as written, before rendering: tells a literal list from a template that
    # rendered to one (send_email lets only the author, never the data, choose recipients).
    raw_config: dict[str, Any] = field(default_factory=dict)

    @property
    def trigger_data(self) -> dict[str, Any]:
        return self.run.trigger_data or {}

    @property
    def chain(self) -> dict[str, Any]:
        """Passed as `cause` to record services so loops across automations are tracked."""
        return self.run.chain or {}

    @property
    def idempotency_key(self) -> str:
        """The same for every try of this action of this run (Message-ID, webhook-id)."""
        return f"{self.run.id}_{self.index}"


class Action:
    type: ClassVar[str]
    # True: the action only writes to this database, so the executor runs it inside the
    # transaction that also records its ActionRun and advances the run (exactly once).
    # False: it talks to the outside world (at least once, with a stable idempotency key).
    transactional: ClassVar[bool] = False
    # False for actions whose config holds no templates (delay).
    templated: ClassVar[bool] = True

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        raise NotImplementedError

    def max_seconds(self, config: Mapping[str, Any]) -> float:
        """How long execute() can take with this (rendered) config, for actions that talk to
        the outside world: the executor holds the run's lease at least this long, so the relay
        never hands the run to another worker in the middle of the call (which would repeat
        it). 0 when the lease as configured is enough."""
        return 0.0
