"""Evaluate and validate automation conditions against a record snapshot.

A conditions definition is either the seed's flat list of ``{"field", "operator", "value"?}``
objects (all must pass) or a group ``{"all": [...]}`` / ``{"any": [...]}`` whose items are
conditions or further groups. Groups may also appear as items of the top-level list. Groups nest
at most ``MAX_GROUP_DEPTH`` levels.

Typing rules (``field_types`` maps a field key to one of ``FIELD_TYPES``):

* number: both sides compare as ``decimal.Decimal``, so ``"50000"`` equals ``50000`` and
  ``50000.0``; floats go through ``repr`` so ``0.1`` is exactly ``Decimal("0.1")``. Booleans are
  not numbers. Surrounding whitespace is allowed in numeric strings. Numbers past the bounds of
  ``primitives.numbers`` (15 significant digits, below 10^15) are not numbers here either: a value
  at save is refused, a record's value compares as text and never orders.
* Dates outside years 1 to 9999 in UTC (``primitives.timestamps``) are not dates, the same way.
* date / datetime: ISO 8601 strings, ``date`` or ``datetime`` objects. Naive datetimes are UTC.
  Two datetimes compare as instants; when either side is a date (or the field is a ``date``
  field), both compare on their UTC calendar date.
* boolean: ``True``/``False``, ``"true"``/``"false"`` (any case), ``1``/``0``.
* text, select, email, url: string comparison that is case-insensitive (``str.casefold``) and
  trims nothing. reference and user hold ids, which are case-sensitive, so they compare exactly.
* unknown or missing type: both sides numeric-looking -> numeric compare; a date object on
  either side -> date compare; a bool on either side -> boolean compare; else text compare.
  ``id``/``module``/``created_at``/``updated_at`` have built-in types (``SYSTEM_FIELD_TYPES``).
* empty means ``None``, ``""``, a whitespace-only string, ``[]`` or ``{}``. Two empty values are
  equal, so ``equals None`` matches a missing field.
* When a value cannot be read as the field's type, equals/not_equals fall back to the text
  comparison of the raw values; greater_than/less_than are ``False`` (never an exception).
* contains on a list checks membership (each item compared with the rules above); on a string it
  is a substring test. starts_with/ends_with only apply to strings (numbers are stringified).
* changed: ``previous`` is given and the value differs after normalisation by type. Unlike
  equals, text is compared case-sensitively here (a case edit is an edit) and all empty values
  count as the same value. A field absent from ``previous`` counts as unchanged, so callers may
  pass either a full snapshot or only the changed fields. changed_to X: changed and the new value
  equals X; changed_from X: changed and the previous value equals X.
* A field missing from ``record`` is ``None``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from automations.engine.operators import (
    CHANGE_OPERATORS,
    FIELD_TYPES,
    NO_VALUE_OPERATORS,
    NULLABLE_VALUE_OPERATORS,
    OPERATORS,
    ORDER_OPERATORS,
    RULE,
    STRING_OPERATORS,
)
from primitives.numbers import NumberError, NumberOutOfRange, parse_number, shown
from primitives.timestamps import MomentError, MomentOutOfRange, parse_moment

__all__ = [
    "CHANGE_OPERATORS",
    "FIELD_TYPES",
    "NO_VALUE_OPERATORS",
    "NULLABLE_VALUE_OPERATORS",
    "OPERATORS",
    "ORDER_OPERATORS",
    "STRING_OPERATORS",
    "ConditionError",
    "ConditionsResult",
    "count_leaves",
    "evaluate_conditions",
    "evaluate_leaf",
    "is_empty",
    "validate_conditions",
]

# Fields every record has, whatever its module declares.
SYSTEM_FIELD_TYPES: Mapping[str, str] = {
    "id": "reference",
    "module": "text",
    "created_at": "datetime",
    "updated_at": "datetime",
}
MAX_GROUP_DEPTH = 5

LEAF_KEYS = frozenset({"field", "operator", "value"})
GROUP_KEYS = ("all", "any")

_EXACT_TYPES = frozenset({"reference", "user"})

_INVALID = object()


class ConditionError(ValueError):
    """An invalid conditions definition met at evaluation time.

    Callers map it to the seed's ``condition_evaluation_failed`` error code.
    """


@dataclass(frozen=True)
class ConditionsResult:
    passed: bool
    evaluated: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Value normalisation


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def to_decimal(value: Any) -> Decimal | None:
    """Read ``value`` as a finite, bounded Decimal, or ``None`` when it is not a number this
    service keeps (primitives/numbers.py: 15 significant digits, below 10^15). Cheap whatever the
    value's exponent and never raises, so a record holding ``"1e1000000"`` compares as text."""
    try:
        return parse_number(value)
    except NumberError:
        return None


def to_date_value(value: Any) -> dt.date | dt.datetime | None:
    """Read ``value`` as a date or a UTC datetime (naive means UTC), else ``None`` (also for
    instants outside years 1 to 9999 in UTC, such as ``0001-01-01T00:00:00+23:00``)."""
    if not isinstance(value, (str, dt.date)):
        return None
    try:
        return parse_moment(value)
    except MomentError:
        return None


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    return None


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return value


def _plain_str(value: Any) -> str:
    """Stringify a scalar the way a user would type it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Comparison kinds


def _kind(field_type: str | None, *values: Any) -> str:
    """Pick how to compare: number, date, datetime, boolean, text or exact."""
    if field_type in ("number", "date", "datetime", "boolean"):
        return field_type
    if field_type in _EXACT_TYPES:
        return "exact"
    if field_type in FIELD_TYPES:
        return "text"
    # Unknown type: infer from the values that are present.
    present = [v for v in values if not is_empty(v)]
    if not present:
        return "text"
    if all(to_decimal(v) is not None for v in present):
        return "number"
    if any(isinstance(v, dt.date) for v in present):
        return "datetime"
    if any(isinstance(v, bool) for v in present):
        return "boolean"
    return "text"


def _normalize(value: Any, kind: str) -> Any:
    if kind == "number":
        number = to_decimal(value)
        return _INVALID if number is None else number
    if kind in ("date", "datetime"):
        parsed = to_date_value(value)
        if parsed is None:
            return _INVALID
        return _as_date(parsed) if kind == "date" else parsed
    if kind == "boolean":
        flag = to_bool(value)
        return _INVALID if flag is None else flag
    if isinstance(value, (list, tuple, dict)):
        return _INVALID
    text = _plain_str(value)
    return text if kind == "exact" else text.casefold()


def _date_pair(a: dt.date, b: dt.date) -> tuple[dt.date, dt.date]:
    """Make two date values comparable: instants if both have times, else calendar dates."""
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a, b
    return _as_date(a), _as_date(b)


def _text_key(value: Any, kind: str) -> str:
    text = _plain_str(value)
    return text if kind == "exact" else text.casefold()


def _scalar_equals(actual: Any, expected: Any, kind: str) -> bool:
    if is_empty(actual) or is_empty(expected):
        return is_empty(actual) and is_empty(expected)
    a, b = _normalize(actual, kind), _normalize(expected, kind)
    if a is _INVALID or b is _INVALID:
        return _text_key(actual, kind) == _text_key(expected, kind)
    if kind in ("date", "datetime"):
        a, b = _date_pair(a, b)
    return bool(a == b)


def _item_key(value: Any, kind: str) -> Any:
    """A hashable key for multiset comparison of list items."""
    normalized = _normalize(value, kind)
    if normalized is _INVALID:
        return ("raw", _text_key(value, kind))
    if isinstance(normalized, dt.date):
        return ("date", _as_date(normalized).isoformat())
    return ("value", normalized)


def _values_equal(actual: Any, expected: Any, field_type: str | None) -> bool:
    if isinstance(actual, (list, tuple)) and not is_empty(actual):
        # A multi-value field equals a list with the same items in any order; a scalar is
        # treated as a one-item list.
        items = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        kind = _kind(field_type, *actual, *items)
        return Counter(_item_key(v, kind) for v in actual) == Counter(
            _item_key(v, kind) for v in items
        )
    kind = _kind(field_type, actual, expected)
    return _scalar_equals(actual, expected, kind)


def _contains(actual: Any, expected: Any, field_type: str | None) -> bool:
    if is_empty(actual) or expected is None:
        return False
    if isinstance(actual, (list, tuple)):
        return any(_values_equal(item, expected, field_type) for item in actual)
    if isinstance(actual, dict):
        return False
    kind = "exact" if field_type in _EXACT_TYPES else "text"
    return _text_key(expected, kind) in _text_key(actual, kind)


def _affix(actual: Any, expected: Any, field_type: str | None, *, start: bool) -> bool:
    if is_empty(actual) or expected is None or isinstance(actual, (list, tuple, dict)):
        return False
    kind = "exact" if field_type in _EXACT_TYPES else "text"
    haystack, needle = _text_key(actual, kind), _text_key(expected, kind)
    return haystack.startswith(needle) if start else haystack.endswith(needle)


def _ordered(actual: Any, expected: Any, field_type: str | None, *, greater: bool) -> bool:
    """greater_than / less_than; values that cannot be ordered give False."""
    if is_empty(actual) or is_empty(expected):
        return False
    if isinstance(actual, (list, tuple, dict)) or isinstance(expected, (list, tuple, dict)):
        return False
    kind = _kind(field_type, actual, expected)
    if kind not in ("number", "date", "datetime"):
        return False
    a, b = _normalize(actual, kind), _normalize(expected, kind)
    if a is _INVALID or b is _INVALID:
        return False
    if kind != "number":
        a, b = _date_pair(a, b)
    return bool(a > b if greater else a < b)


def _change_key(value: Any, kind: str) -> Any:
    """What must differ for a value to count as changed (case-sensitive text)."""
    if is_empty(value):
        return None
    if isinstance(value, (list, tuple)):
        return tuple(sorted(repr(_change_key(item, kind)) for item in value))
    exact_kind = "exact" if kind == "text" else kind
    normalized = _normalize(value, exact_kind)
    if normalized is _INVALID:
        return ("raw", _plain_str(value))
    if isinstance(normalized, dt.datetime):
        return normalized.astimezone(dt.UTC)
    return normalized


def _has_changed(before: Any, after: Any, field_type: str | None) -> bool:
    flat = [v for v in (before, after) if not isinstance(v, (list, tuple))]
    kind = _kind(field_type, *flat)
    return bool(_change_key(before, kind) != _change_key(after, kind))


# ---------------------------------------------------------------------------------------------
# Structure shared by evaluation and validation


def _type_name(value: Any) -> str:
    names = {str: "string", bool: "boolean", int: "number", float: "number", list: "list"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    return names.get(type(value), type(value).__name__)


def _group_key(node: Mapping[str, Any]) -> str | None:
    keys = [k for k in GROUP_KEYS if k in node]
    return keys[0] if keys else None


def _structure_errors(node: Any, path: str, depth: int) -> list[tuple[str, str]]:
    """Errors that make a node impossible to evaluate (no knowledge of fields needed)."""
    if not isinstance(node, Mapping):
        kind = _type_name(node)
        return [(path, f"expected a condition object or an all/any group, got {kind}")]
    if _group_key(node) is not None:
        return _group_structure_errors(node, path, depth + 1)
    errors = [(f"{path}.{key}", f"unknown key '{key}'") for key in node if key not in LEAF_KEYS]
    fld = node.get("field")
    if "field" not in node:
        errors.append((f"{path}.field", "field is required"))
    elif not isinstance(fld, str) or not fld.strip():
        errors.append((f"{path}.field", "field must be a non-empty string"))
    operator = node.get("operator")
    if "operator" not in node:
        errors.append((f"{path}.operator", "operator is required"))
    elif operator not in OPERATORS:
        expected = ", ".join(OPERATORS)
        errors.append(
            (f"{path}.operator", f"unknown operator {operator!r}; expected one of {expected}")
        )
    elif operator in NO_VALUE_OPERATORS:
        if "value" in node:
            errors.append((f"{path}.value", f"operator '{operator}' takes no value"))
    elif "value" not in node or (
        node["value"] is None and operator not in NULLABLE_VALUE_OPERATORS
    ):
        errors.append((f"{path}.value", f"operator '{operator}' needs a value"))
    elif operator in STRING_OPERATORS and not _is_scalar_text(node["value"]):
        errors.append((f"{path}.value", f"operator '{operator}' needs a string or number value"))
    return errors


def _is_scalar_text(value: Any) -> bool:
    return isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool)


def _group_structure_errors(
    node: Mapping[str, Any], path: str, depth: int
) -> list[tuple[str, str]]:
    if depth > MAX_GROUP_DEPTH:
        return [(path, f"groups nest deeper than {MAX_GROUP_DEPTH} levels")]
    errors: list[tuple[str, str]] = []
    if all(k in node for k in GROUP_KEYS):
        errors.append((path, "a group takes either 'all' or 'any', not both"))
    errors += [(f"{path}.{key}", f"unknown key '{key}'") for key in node if key not in GROUP_KEYS]
    key = _group_key(node)
    if key is None:  # callers pass groups only
        return errors
    items = node[key]
    if not isinstance(items, list):
        return [*errors, (f"{path}.{key}", f"'{key}' must be a list of conditions")]
    if not items:
        errors.append((f"{path}.{key}", f"'{key}' must not be empty"))
    for index, item in enumerate(items):
        errors += _structure_errors(item, f"{path}.{key}[{index}]", depth)
    return errors


def _top_level_errors(conditions: Any, path: str) -> list[tuple[str, str]]:
    if conditions is None:
        return []
    if isinstance(conditions, list):
        errors: list[tuple[str, str]] = []
        for index, item in enumerate(conditions):
            errors += _structure_errors(item, f"{path}[{index}]", 0)
        return errors
    if isinstance(conditions, Mapping) and _group_key(conditions) is not None:
        return _group_structure_errors(conditions, path, 1)
    return [(path, 'expected a list of conditions or an {"all"|"any": [...]} group')]


# ---------------------------------------------------------------------------------------------
# Evaluation


def evaluate_conditions(
    conditions: Any,
    *,
    record: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    field_types: Mapping[str, str] | None = None,
) -> ConditionsResult:
    """Evaluate every leaf (no short-circuit, so a dry run can explain each one).

    An empty or missing definition passes. Raises ``ConditionError`` on a malformed definition.
    """
    errors = _top_level_errors(conditions, "conditions")
    if errors:
        where, message = errors[0]
        raise ConditionError(f"{where}: {message}")
    if not conditions:
        return ConditionsResult(passed=True, evaluated=[])
    evaluated: list[dict[str, Any]] = []
    types = _with_system_types(field_types)
    if isinstance(conditions, list):
        passed = _evaluate_items(conditions, "all", record, previous, types, evaluated)
    else:
        passed = _evaluate_node(conditions, record, previous, types, evaluated)
    return ConditionsResult(passed=passed, evaluated=evaluated)


def _with_system_types(field_types: Mapping[str, str] | None) -> dict[str, str]:
    return {**SYSTEM_FIELD_TYPES, **(field_types or {})}


def _evaluate_items(
    items: Sequence[Any],
    mode: str,
    record: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    types: Mapping[str, str],
    evaluated: list[dict[str, Any]],
) -> bool:
    # A list, not a generator: every item must be evaluated and recorded.
    results = [_evaluate_node(item, record, previous, types, evaluated) for item in items]
    return all(results) if mode == "all" else any(results)


def _evaluate_node(
    node: Mapping[str, Any],
    record: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    types: Mapping[str, str],
    evaluated: list[dict[str, Any]],
) -> bool:
    mode = _group_key(node)
    if mode is not None:
        return _evaluate_items(node[mode], mode, record, previous, types, evaluated)
    entry = evaluate_leaf(
        node, record=record, previous=previous, field_type=types.get(node["field"])
    )
    evaluated.append(entry)
    return bool(entry["passed"])


def evaluate_leaf(
    condition: Mapping[str, Any],
    *,
    record: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    field_type: str | None = None,
) -> dict[str, Any]:
    """Evaluate one well-formed ``{"field", "operator", "value"?}`` and explain the outcome."""
    name, operator = condition["field"], condition["operator"]
    expected = condition.get("value")
    actual = record.get(name)
    entry: dict[str, Any] = {"field": name, "operator": operator}
    if operator not in NO_VALUE_OPERATORS:
        entry["value"] = expected
    entry["actual_value"] = actual
    if operator in CHANGE_OPERATORS:
        # Absent from previous means unchanged (callers may send only changed fields).
        before = None if previous is None else previous.get(name, actual)
        entry["previous_value"] = before
        passed = _evaluate_change(operator, before, actual, expected, previous, field_type)
    else:
        passed = _evaluate_plain(operator, actual, expected, field_type)
    entry["passed"] = passed
    return entry


def _evaluate_change(
    operator: str,
    before: Any,
    after: Any,
    expected: Any,
    previous: Mapping[str, Any] | None,
    field_type: str | None,
) -> bool:
    if previous is None or not _has_changed(before, after, field_type):
        return False
    if operator == "changed_to":
        return _values_equal(after, expected, field_type)
    if operator == "changed_from":
        return _values_equal(before, expected, field_type)
    return True


def _evaluate_plain(operator: str, actual: Any, expected: Any, field_type: str | None) -> bool:
    if operator == "equals":
        return _values_equal(actual, expected, field_type)
    if operator == "not_equals":
        return not _values_equal(actual, expected, field_type)
    if operator == "contains":
        return _contains(actual, expected, field_type)
    if operator == "not_contains":
        return not _contains(actual, expected, field_type)
    if operator == "starts_with":
        return _affix(actual, expected, field_type, start=True)
    if operator == "ends_with":
        return _affix(actual, expected, field_type, start=False)
    if operator == "greater_than":
        return _ordered(actual, expected, field_type, greater=True)
    if operator == "less_than":
        return _ordered(actual, expected, field_type, greater=False)
    if operator == "is_empty":
        return is_empty(actual)
    if operator == "is_not_empty":
        return not is_empty(actual)
    raise ConditionError(f"unknown operator {operator!r}")  # pragma: no cover - validated above


# ---------------------------------------------------------------------------------------------
# Validation (save time)


def validate_conditions(
    conditions: Any,
    *,
    field_types: Mapping[str, str],
    has_previous: bool,
    path: str = "conditions",
) -> list[tuple[str, str]]:
    """Return ``(path, message)`` for every problem; an empty list means valid."""
    errors = _top_level_errors(conditions, path)
    types = _with_system_types(field_types)
    for leaf_path, leaf in _iter_leaves(conditions, path):
        name, operator = leaf.get("field"), leaf.get("operator")
        if not isinstance(name, str) or not name.strip():
            continue  # already reported as a structural error
        if name not in types:
            errors.append((f"{leaf_path}.field", f"unknown field {name!r} in this module"))
        elif operator in OPERATORS:
            errors += _leaf_semantic_errors(leaf, leaf_path, types, has_previous)
    return sorted(errors, key=lambda error: _path_sort_key(error[0]))


def _path_sort_key(path: str) -> list[tuple[int, int | str]]:
    # Keep errors in definition order: conditions[2] before conditions[10].
    parts = [part for part in re.split(r"[\[\].]+", path) if part]
    # isdecimal, not isdigit: "¹" is a digit to Python but not a number int() reads.
    return [(0, int(part)) if part.isdecimal() else (1, part) for part in parts]


def count_leaves(conditions: Any) -> int:
    """How many conditions a definition holds (for its MAX_CONDITIONS bound), counting only
    those within MAX_GROUP_DEPTH: deeper groups are a structure error of their own, and
    counting into them first let a group nested 400 deep overflow the stack."""
    return len(_iter_leaves(conditions, ""))


def _iter_leaves(node: Any, path: str, depth: int = 0) -> list[tuple[str, Mapping[str, Any]]]:
    """Leaves that look like conditions, wherever the structure is walkable and within
    MAX_GROUP_DEPTH (what lies deeper is reported by _group_structure_errors, never walked)."""
    if isinstance(node, list):
        found: list[tuple[str, Mapping[str, Any]]] = []
        for index, item in enumerate(node):
            found += _iter_leaves(item, f"{path}[{index}]", depth)
        return found
    if not isinstance(node, Mapping):
        return []
    key = _group_key(node)
    if key is None:
        return [(path, node)]
    if depth >= MAX_GROUP_DEPTH:
        return []
    return _iter_leaves(node[key], f"{path}.{key}", depth + 1)


def _leaf_semantic_errors(
    leaf: Mapping[str, Any], path: str, types: Mapping[str, str], has_previous: bool
) -> list[tuple[str, str]]:
    """Errors that need the module's fields and the trigger (structure already checked)."""
    name, operator = leaf["field"], leaf["operator"]
    errors: list[tuple[str, str]] = []
    if operator in CHANGE_OPERATORS and not has_previous:
        message = (
            f"operator '{operator}' needs a previous value; "
            "use it only with record.updated or field.changed triggers"
        )
        errors.append((f"{path}.operator", message))
    field_type = types[name]
    misfit = _operator_misfit(operator, field_type)
    if misfit:
        # The value's type is moot while the operator itself does not fit the field.
        return [*errors, (f"{path}.operator", misfit)]
    value = leaf.get("value")
    if operator in NO_VALUE_OPERATORS or operator in STRING_OPERATORS or value is None:
        return errors
    if operator in ORDER_OPERATORS and field_type not in FIELD_TYPES:
        try:
            parse_number(value)
        except NumberOutOfRange as err:
            errors.append((f"{path}.value", f"operator '{operator}': the value {err}"))
        except NumberError:
            errors.append((f"{path}.value", f"operator '{operator}' needs a numeric value"))
    value_problem = _value_type_error(value, field_type)
    if value_problem:
        errors.append((f"{path}.value", value_problem))
    return errors


def _operator_misfit(operator: str, field_type: str) -> str | None:
    return RULE[operator].misfit(field_type)


def _value_type_error(value: Any, field_type: str) -> str | None:
    if field_type == "number":
        try:
            parse_number(value)
        except NumberError as err:  # the words records use for the same value
            return f"value for a number field {err}"
    if field_type in ("date", "datetime"):
        if not isinstance(value, str):
            return f"value for a {field_type} field must be an ISO 8601 date, got {shown(value)}"
        try:
            parse_moment(value)
        except MomentOutOfRange as err:
            return f"value for a {field_type} field {err}"
        except MomentError:
            return f"value for a {field_type} field must be an ISO 8601 date, got {shown(value)}"
    if field_type == "boolean" and not isinstance(value, bool):
        return f"value for a boolean field must be true or false, got {shown(value)}"
    return None
