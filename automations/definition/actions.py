"""Save-time validation of a definition's action list: its shape, its size, and each action
checked by its own type (automations.actions: every type validates and normalizes its config),
its template strings checked for variables and filters. Rendered values are checked when the
action runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.actions import ACTIONS
from automations.validation import DefinitionContext, Problems, type_name, unknown_keys

MAX_ACTIONS = 50


def validate_actions(actions: Any, ctx: DefinitionContext) -> tuple[Problems, list[dict[str, Any]]]:
    """Return (problems, cleaned actions)."""
    if actions is None:
        return [("actions", "actions is required")], []
    if not isinstance(actions, list):
        return [("actions", f"must be a list of actions, got {type_name(actions)}")], []
    if not actions:
        return [("actions", "an automation needs at least one action")], []
    if len(actions) > MAX_ACTIONS:
        return [("actions", f"at most {MAX_ACTIONS} actions, got {len(actions)}")], []
    problems: Problems = []
    cleaned: list[dict[str, Any]] = []
    for index, action in enumerate(actions):
        path = f"actions[{index}]"
        if not isinstance(action, Mapping):
            message = f"must be an object with type and config, got {type_name(action)}"
            problems.append((path, message))
            continue
        problems += unknown_keys(action, {"type", "config"}, path)
        kind = action.get("type")
        spec = ACTIONS.get(kind) if isinstance(kind, str) else None
        if "type" not in action:
            problems.append((f"{path}.type", "type is required"))
        elif spec is None:
            expected = ", ".join(ACTIONS)
            message = f"unknown action type {kind!r}; expected one of {expected}"
            problems.append((f"{path}.type", message))
        config = action.get("config")
        config_path = f"{path}.config"
        if "config" not in action:
            problems.append((config_path, "config is required"))
            continue
        if not isinstance(config, Mapping):
            problems.append((config_path, f"must be an object, got {type_name(config)}"))
            continue
        if spec is None:
            continue
        problems += spec.validate(config, ctx, config_path)
        if spec.templated and ctx.trigger_valid:
            problems += ctx.templates(dict(config), config_path)
        cleaned.append({"type": kind, "config": spec.normalize(dict(config))})
    return problems, cleaned
