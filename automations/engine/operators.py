"""The condition operators and the rules each one follows: the one source of them.

Save-time validation (`engine.conditions`), the builder's server-rendered rows
(`web.builder_state`) and the builder's JavaScript (which receives `operator_table()` as data in
the page) all read these rules; none keeps a copy of its own. Adding an operator means adding one
`OperatorRule` here and its evaluation in `engine.conditions`.

A rule says which declared field types an operator applies to. A field whose type is not one of
`FIELD_TYPES` (a type this engine does not know) is compared by inference from its values
(see `engine.conditions`), so save-time validation lets any operator through for it; the builder
offers such a field the operators of a text field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# In the order the builder lists them and messages name them.
FIELD_TYPE_ORDER: tuple[str, ...] = (
    "text",
    "number",
    "date",
    "datetime",
    "boolean",
    "select",
    "email",
    "url",
    "reference",
    "user",
)
FIELD_TYPES: frozenset[str] = frozenset(FIELD_TYPE_ORDER)

# Types whose values order (greater_than / less_than) and types that are not text at all.
_ORDERED = ("number", "date", "datetime")
_TEXT_LIKE = tuple(t for t in FIELD_TYPE_ORDER if t not in {*_ORDERED, "boolean"})


@dataclass(frozen=True)
class OperatorRule:
    """What one operator needs from a condition and which fields it applies to."""

    name: str
    # The declared field types it applies to (FIELD_TYPE_ORDER's order).
    field_types: tuple[str, ...] = FIELD_TYPE_ORDER
    takes_value: bool = True
    # `"value": null` is meaningful ("is empty" / "was cleared").
    null_value: bool = False
    # It compares with the value before the change, so only update triggers have it.
    needs_previous: bool = False
    # A substring test: the value must be a string or a number.
    text_value: bool = False
    # An order comparison: for a field of unknown type the value must be numeric.
    ordering: bool = False

    def applies_to(self, field_type: str) -> bool:
        """Whether a field of this type accepts the operator at save time."""
        return field_type not in FIELD_TYPES or field_type in self.field_types

    def misfit(self, field_type: str) -> str | None:
        """Why the operator does not apply to a field of this type (None when it does)."""
        if self.applies_to(field_type):
            return None
        if len(self.field_types) * 2 <= len(FIELD_TYPE_ORDER):
            names = list(self.field_types)
            listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            return f"operator '{self.name}' applies only to {listed} fields"
        return f"operator '{self.name}' does not apply to {field_type} fields"


RULES: tuple[OperatorRule, ...] = (
    OperatorRule("equals", null_value=True),
    OperatorRule("not_equals", null_value=True),
    OperatorRule("contains", field_types=_TEXT_LIKE, text_value=True),
    OperatorRule("not_contains", field_types=_TEXT_LIKE, text_value=True),
    OperatorRule("starts_with", field_types=_TEXT_LIKE, text_value=True),
    OperatorRule("ends_with", field_types=_TEXT_LIKE, text_value=True),
    OperatorRule("greater_than", field_types=_ORDERED, ordering=True),
    OperatorRule("less_than", field_types=_ORDERED, ordering=True),
    OperatorRule("is_empty", takes_value=False),
    OperatorRule("is_not_empty", takes_value=False),
    OperatorRule("changed", takes_value=False, needs_previous=True),
    OperatorRule("changed_to", null_value=True, needs_previous=True),
    OperatorRule("changed_from", null_value=True, needs_previous=True),
)
RULE: Mapping[str, OperatorRule] = {rule.name: rule for rule in RULES}

# Views of the table for the code that asks one question of it.
OPERATORS: tuple[str, ...] = tuple(rule.name for rule in RULES)
NO_VALUE_OPERATORS: frozenset[str] = frozenset(r.name for r in RULES if not r.takes_value)
CHANGE_OPERATORS: frozenset[str] = frozenset(r.name for r in RULES if r.needs_previous)
NULLABLE_VALUE_OPERATORS: frozenset[str] = frozenset(r.name for r in RULES if r.null_value)
ORDER_OPERATORS: frozenset[str] = frozenset(r.name for r in RULES if r.ordering)
STRING_OPERATORS: frozenset[str] = frozenset(r.name for r in RULES if r.text_value)


def offered_operators(field_type: str | None, *, has_previous: bool) -> list[str]:
    """Operators a form offers for a field of this type (None: a field it does not know),
    in table order: what save-time validation accepts, with unknown types treated as text."""
    known = field_type if field_type in FIELD_TYPES else "text"
    return [
        rule.name
        for rule in RULES
        if (has_previous or not rule.needs_previous) and known in rule.field_types
    ]


def operator_table() -> list[dict[str, Any]]:
    """The rules as JSON data, for the builder's JavaScript (one entry per operator)."""
    return [
        {
            "value": rule.name,
            "field_types": list(rule.field_types),
            "takes_value": rule.takes_value,
            "needs_previous": rule.needs_previous,
            "text_value": rule.text_value,
        }
        for rule in RULES
    ]
