"""The typed shape of an automation's definition: frozen objects that every reader uses.

A definition is stored as JSON (the `trigger`, `conditions`, `actions` and `error_handling`
columns of an Automation, and one `definition` dict per AutomationVersion). Code outside this
package never reads that JSON with `.get()`: it asks `definition_of(automation)` (or of a
version) for a `Definition` and reads typed fields, so a part's shape and its defaults are
written down once, here.

Reading stored JSON never raises: rows saved before a rule existed still load, with the same
fallbacks the readers used to apply one by one (an unusable `disable_after_failures` is the
default 5, a missing schedule is ""). Validation (`automations.definition.validate_definition`)
builds the same objects from the cleaned request, and `as_json()` gives back exactly the JSON
that is stored, so the objects hold every part of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from automations.engine.operators import CHANGE_OPERATORS
from automations.trigger_types import MODULE_TRIGGERS, PREVIOUS_TRIGGERS

# The JSON parts of a definition, each a column of Automation.
DEFINITION_PARTS: tuple[str, ...] = ("trigger", "conditions", "actions", "error_handling")
# What an update may replace and a version keeps (the secret stays out of history).
DEFINITION_FIELDS: tuple[str, ...] = ("name", "description", *DEFINITION_PARTS, "timezone")
# Every key a definition may have in a request.
DEFINITION_KEYS: frozenset[str] = frozenset({*DEFINITION_FIELDS, "enabled", "webhook_secret"})
TRIGGER_FIELDS: tuple[str, ...] = ("type", "module", "field", "schedule", "webhook_path")
CONDITION_GROUP_MODES: tuple[str, ...] = ("all", "any")

# Failure notices go to the automation's creator in the app (and to notify_email when set);
# the circuit breaker disables after this many consecutive failed runs (the seed's 5).
DEFAULT_NOTIFY_ON_FAILURE = True
DEFAULT_DISABLE_AFTER_FAILURES = 5


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Trigger:
    """What starts a run: its type and the settings that type takes."""

    type: str
    module: str | None = None  # module slug (record and manual triggers)
    field: str | None = None  # the watched field (field.changed)
    schedule: str | None = None  # cron expression or alias (schedule)
    webhook_path: str | None = None  # one URL path segment (webhook)

    @property
    def has_record(self) -> bool:
        """Whether runs of this trigger have a `record` (templates, conditions)."""
        return self.type in MODULE_TRIGGERS

    @property
    def has_previous(self) -> bool:
        """Whether runs of this trigger have the values a change replaced."""
        return self.type in PREVIOUS_TRIGGERS

    @classmethod
    def from_json(cls, data: Any) -> Trigger:
        if not isinstance(data, Mapping):
            return cls(type="")
        return cls(
            type=_text(data.get("type")) or "",
            module=_text(data.get("module")),
            field=_text(data.get("field")),
            schedule=_text(data.get("schedule")),
            webhook_path=_text(data.get("webhook_path")),
        )

    def as_json(self) -> dict[str, str]:
        values = {key: getattr(self, key) for key in TRIGGER_FIELDS}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Condition:
    """One `{"field", "operator", "value"?}` test."""

    field: str
    operator: str
    value: Any = None
    has_value: bool = False  # `"value": null` and no value at all differ


@dataclass(frozen=True)
class ConditionGroup:
    """`{"all": [...]}` or `{"any": [...]}`; the seed's flat list is an "all" group."""

    mode: str
    items: tuple[Condition | ConditionGroup, ...] = ()

    def leaves(self) -> Iterator[Condition]:
        for item in self.items:
            if isinstance(item, Condition):
                yield item
            else:
                yield from item.leaves()


def _condition_node(node: Any) -> Condition | ConditionGroup | None:
    if not isinstance(node, Mapping):
        return None
    for mode in CONDITION_GROUP_MODES:
        if mode in node:
            return _condition_group(mode, node[mode])
    return Condition(
        field=_text(node.get("field")) or "",
        operator=_text(node.get("operator")) or "",
        value=node.get("value"),
        has_value="value" in node,
    )


def _condition_group(mode: str, items: Any) -> ConditionGroup:
    nodes = (_condition_node(item) for item in items) if isinstance(items, list) else ()
    return ConditionGroup(mode=mode, items=tuple(node for node in nodes if node is not None))


@dataclass(frozen=True)
class Conditions:
    """The conditions a record event must pass.

    `root` is the typed tree; `source` is the stored JSON, which `engine.conditions` evaluates
    and explains (the engine takes plain data and knows nothing of these classes).
    """

    root: ConditionGroup = field(default_factory=lambda: ConditionGroup(mode="all"))
    source: Any = field(default_factory=list)

    def __bool__(self) -> bool:
        # The stored JSON decides: a malformed non-empty one is evaluated (and fails the run
        # with condition_evaluation_failed), never skipped as if there were no conditions.
        return bool(self.source)

    def leaves(self) -> Iterator[Condition]:
        return self.root.leaves()

    @property
    def compares_previous(self) -> bool:
        """Whether any condition compares with the value before the change."""
        return any(leaf.operator in CHANGE_OPERATORS for leaf in self.leaves())

    @classmethod
    def from_json(cls, data: Any) -> Conditions:
        if isinstance(data, list):
            return cls(root=_condition_group("all", data), source=data)
        node = _condition_node(data)
        if isinstance(node, ConditionGroup):
            return cls(root=node, source=data)
        return cls()

    def as_json(self) -> Any:
        return self.source


@dataclass(frozen=True)
class ActionSpec:
    """One action of a definition: its type and its config, whose shape the action type's own
    module (automations.actions.<type>) owns. The config is the stored mapping itself, typed
    read-only: copy it (`dict(spec.config)`) before changing anything in it."""

    type: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> ActionSpec:
        if not isinstance(data, Mapping):
            return cls(type="")
        config = data.get("config")
        return cls(
            type=_text(data.get("type")) or "",
            config=config if isinstance(config, Mapping) else {},
        )

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "config": dict(self.config)}


def actions_from_json(data: Any) -> tuple[ActionSpec, ...]:
    if not isinstance(data, list):
        return ()
    return tuple(ActionSpec.from_json(item) for item in data)


@dataclass(frozen=True)
class ErrorHandling:
    """What happens when a run fails: who is told, and when the circuit breaker trips."""

    notify_on_failure: bool = DEFAULT_NOTIFY_ON_FAILURE
    notify_email: str | None = None
    disable_after_failures: int = DEFAULT_DISABLE_AFTER_FAILURES

    @classmethod
    def from_json(cls, data: Any) -> ErrorHandling:
        if not isinstance(data, Mapping):
            return cls()
        limit = data.get("disable_after_failures", DEFAULT_DISABLE_AFTER_FAILURES)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            limit = DEFAULT_DISABLE_AFTER_FAILURES
        return cls(
            notify_on_failure=bool(data.get("notify_on_failure", DEFAULT_NOTIFY_ON_FAILURE)),
            notify_email=_text(data.get("notify_email")) or None,
            disable_after_failures=limit,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "notify_on_failure": self.notify_on_failure,
            "notify_email": self.notify_email,
            "disable_after_failures": self.disable_after_failures,
        }


DEFAULT_ERROR_HANDLING: Mapping[str, Any] = ErrorHandling().as_json()


@dataclass(frozen=True)
class Definition:
    """Trigger, conditions, actions (in order) and error handling of one automation."""

    trigger: Trigger
    conditions: Conditions = field(default_factory=Conditions)
    actions: tuple[ActionSpec, ...] = ()
    error_handling: ErrorHandling = field(default_factory=ErrorHandling)

    @classmethod
    def from_json(cls, parts: Mapping[str, Any]) -> Definition:
        """From a mapping with DEFINITION_PARTS as keys (a version's `definition`, a cleaned
        request); absent parts read as empty."""
        return cls(
            trigger=Trigger.from_json(parts.get("trigger")),
            conditions=Conditions.from_json(parts.get("conditions")),
            actions=actions_from_json(parts.get("actions")),
            error_handling=ErrorHandling.from_json(parts.get("error_handling")),
        )

    def as_json(self) -> dict[str, Any]:
        """The stored JSON of each part, keyed by DEFINITION_PARTS."""
        return {
            "trigger": self.trigger.as_json(),
            "conditions": self.conditions.as_json(),
            "actions": [action.as_json() for action in self.actions],
            "error_handling": self.error_handling.as_json(),
        }


@dataclass(frozen=True)
class ValidatedAutomation:
    """What validation returns: a definition ready to store, with the automation's own
    settings beside it."""

    name: str
    description: str
    enabled: bool
    definition: Definition
    timezone: str
    webhook_secret: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The cleaned definition as the services store it (and the API takes it)."""
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            **self.definition.as_json(),
            "timezone": self.timezone,
        }
        if self.webhook_secret is not None:
            data["webhook_secret"] = self.webhook_secret
        return data


# ---------------------------------------------------------------------------------------------
# The typed definition of a stored row


class StoredAutomation(Protocol):
    """An Automation row, as far as its definition goes."""

    trigger: Any
    conditions: Any
    actions: Any
    error_handling: Any


class StoredVersion(Protocol):
    """An AutomationVersion row, as far as its definition goes."""

    definition: Any


_CACHE = "_typed_definition"


@dataclass(frozen=True)
class _Parsed:
    """A definition_of result and the JSON objects it was parsed from."""

    sources: tuple[Any, ...]
    definition: Definition


def definition_of(row: StoredAutomation | StoredVersion) -> Definition:
    """The typed definition of an Automation or an AutomationVersion, parsed from the JSON it
    has already loaded (no query) and kept on the instance, so the matching index's
    automations are parsed once per load, not once per record event.

    An Automation's four JSON parts are read: a row loaded with .only() that defers one of
    them pays a query for it, as any access does (parse just the part it has instead, e.g.
    `actions_from_json(row.actions)`).

    The cache holds the JSON objects it was parsed from and is used only while the row still
    holds those same objects: assigning a part (services, refresh_from_db) parses again.
    Changing a part's JSON in place is not seen; the services never do that.
    """
    sources = _sources(row)
    cached: _Parsed | None = vars(row).get(_CACHE)
    # Identity, not equality: this runs for every matched automation on every record save.
    if cached is not None and _same_objects(cached.sources, sources):
        return cached.definition
    definition = _parse(sources)
    vars(row)[_CACHE] = _Parsed(sources, definition)
    return definition


def _same_objects(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if len(a) != len(b):
        return False
    if len(a) == 1:
        return a[0] is b[0]
    return a[0] is b[0] and a[1] is b[1] and a[2] is b[2] and a[3] is b[3]


def _sources(row: StoredAutomation | StoredVersion) -> tuple[Any, ...]:
    if hasattr(row, "trigger"):
        automation: StoredAutomation = row  # type: ignore[assignment]
        return (
            automation.trigger,
            automation.conditions,
            automation.actions,
            automation.error_handling,
        )
    return (getattr(row, "definition", None),)


def _parse(sources: tuple[Any, ...]) -> Definition:
    if len(sources) == 1:
        stored = sources[0]
        return Definition.from_json(stored if isinstance(stored, Mapping) else {})
    return Definition.from_json(dict(zip(DEFINITION_PARTS, sources, strict=True)))
