"""delay: the executor parks the run in the database until due_at (see runtime.executor)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.actions.base import Action, ActionContext, ActionError
from automations.engine.durations import delay_seconds


def seconds_of(config: Mapping[str, Any]) -> int:
    try:
        return delay_seconds(config)
    except ValueError as err:
        raise ActionError("invalid_delay", str(err), permanent=True) from err


class Delay(Action):
    type = "delay"
    templated = False

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        # Never called to wait: the executor handles delay itself, without sleeping.
        return {"seconds": seconds_of(config)}
