"""delay: the run waits in the database, not in a worker, then goes on with the next action.

execute() answers Park(seconds); the executor stores the run as waiting with its due time and
the relay hands it over again when it is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automations.actions.base import Action, ActionContext, ActionError, Park
from automations.engine.durations import UNIT_SECONDS, delay_seconds, validate_delay

if TYPE_CHECKING:
    from automations.validation import DefinitionContext, Problems


class Delay(Action):
    type = "delay"
    label = "Wait (delay)"
    templated = False
    parks = True
    choices = {"unit": tuple(UNIT_SECONDS)}

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        return validate_delay(config, path)

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Park:
        try:
            return Park(delay_seconds(config))
        except ValueError as err:
            raise ActionError("invalid_delay", str(err), permanent=True) from err
