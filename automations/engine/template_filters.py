"""What every filter a template may use accepts, checked at save time and again at render.

Each filter (ours and the Liquid built-ins we allow) has one ``FilterSpec``: its arguments in
order (how many are required, what kind each must be) and its keyword options. The same spec
is used twice:

* at save time, ``filter_call_problems`` checks the count of arguments and the kind of every
  *literal* argument (``add_days: "abc"``, ``uppercase: 1, 2``, ``date_format`` with no format),
  in the words of the name the user wrote;
* at render, ``GuardedFilter`` checks the values the arguments actually have (a variable's
  value is only known then), bounds the filter's input, work and result
  (``template_limits``), and turns whatever the filter raises into a message with no Python
  in it.

Plain Python plus Liquid's parse tree; no Django.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from liquid import BoundTemplate, Environment, RenderContext, Undefined
from liquid.builtin.expressions.arguments import KeywordArgument
from liquid.builtin.expressions.filtered import Filter
from liquid.builtin.expressions.primitive import (
    FalseLiteral,
    FloatLiteral,
    IntegerLiteral,
    Nil,
    RangeLiteral,
    StringLiteral,
    TrueLiteral,
)
from liquid.exceptions import FilterArgumentError, LiquidError
from liquid.expression import Expression

from automations.engine import template_limits as limits


class Kind(enum.Enum):
    """What an argument must be. The value is how a message names it."""

    ANY = "any value"
    TEXT = "text or a number"
    STRING = "text"
    NUMBER = "a number"
    WHOLE = "a whole number"
    LIST = "a list"
    TIMEZONE = 'an IANA timezone name such as "Europe/Paris"'
    BOOLEAN = "true or false"


@dataclass(frozen=True)
class Param:
    label: str  # how messages name it: "the number of days"
    kind: Kind


@dataclass(frozen=True)
class FilterSpec:
    params: tuple[Param, ...] = ()
    required: int = 0
    keywords: Mapping[str, Kind] = field(default_factory=dict)
    # Reads its input as a number (Liquid's math filters): the input is bounded as one.
    numeric: bool = False

    def usage(self, name: str) -> str:
        if not self.params:
            return name
        shown = [
            f"<{p.label}>" if i < self.required else f"[<{p.label}>]"
            for i, p in enumerate(self.params)
        ]
        return f"{name}: {', '.join(shown)}"


_NONE = FilterSpec()
_TEXT_ARG = FilterSpec((Param("text", Kind.TEXT),), required=1)
_NUMBER_ARG = FilterSpec((Param("number", Kind.NUMBER),), required=1, numeric=True)
_NUMBER_INPUT = FilterSpec(numeric=True)
_PROPERTY = FilterSpec((Param("property", Kind.ANY),))
_PROPERTY_VALUE = FilterSpec((Param("property", Kind.ANY), Param("value", Kind.ANY)), required=1)
_TRUNCATE = FilterSpec((Param("length", Kind.WHOLE), Param("ending", Kind.TEXT)))


def _shift(unit: str) -> FilterSpec:
    return FilterSpec((Param(f"number of {unit}", Kind.WHOLE),), required=1)


SPECS: dict[str, FilterSpec] = {
    # Text
    "append": _TEXT_ARG,
    "prepend": _TEXT_ARG,
    "remove": _TEXT_ARG,
    "remove_first": _TEXT_ARG,
    "remove_last": _TEXT_ARG,
    "replace": FilterSpec((Param("text to find", Kind.TEXT), Param("replacement", Kind.TEXT)), 1),
    "replace_first": FilterSpec(
        (Param("text to find", Kind.TEXT), Param("replacement", Kind.TEXT)), 1
    ),
    "replace_last": FilterSpec(
        (Param("text to find", Kind.TEXT), Param("replacement", Kind.TEXT)), 2
    ),
    "split": FilterSpec((Param("separator", Kind.TEXT),), required=1),
    "slice": FilterSpec((Param("start", Kind.WHOLE), Param("length", Kind.WHOLE)), required=1),
    "truncate": _TRUNCATE,
    "truncatewords": _TRUNCATE,
    **{
        name: _NONE
        for name in (
            "base64_decode",
            "base64_encode",
            "base64_url_safe_decode",
            "base64_url_safe_encode",
            "capitalize",
            "downcase",
            "escape",
            "escape_once",
            "escapejs",
            "lstrip",
            "newline_to_br",
            "rstrip",
            "safe",
            "squish",
            "strip",
            "strip_html",
            "strip_newlines",
            "upcase",
            "url_decode",
            "url_encode",
            "uppercase",
            "lowercase",
            "trim",
            "size",
            "first",
            "last",
            "reverse",
            "json",
        )
    },
    # Numbers
    "abs": _NUMBER_INPUT,
    "ceil": _NUMBER_INPUT,
    "floor": _NUMBER_INPUT,
    "at_least": _NUMBER_ARG,
    "at_most": _NUMBER_ARG,
    "divided_by": _NUMBER_ARG,
    "minus": _NUMBER_ARG,
    "modulo": _NUMBER_ARG,
    "plus": _NUMBER_ARG,
    "times": _NUMBER_ARG,
    "round": FilterSpec((Param("decimal places", Kind.WHOLE),), numeric=True),
    # Lists
    "compact": _PROPERTY,
    "sort": _PROPERTY,
    "sort_natural": _PROPERTY,
    "uniq": _PROPERTY,
    "sum": FilterSpec((Param("property", Kind.ANY),), numeric=True),
    "map": FilterSpec((Param("property", Kind.ANY),), required=1),
    "where": _PROPERTY_VALUE,
    "reject": _PROPERTY_VALUE,
    "find": _PROPERTY_VALUE,
    "find_index": _PROPERTY_VALUE,
    "has": _PROPERTY_VALUE,
    "concat": FilterSpec((Param("list to add", Kind.LIST),), required=1),
    "join": FilterSpec((Param("separator", Kind.TEXT),)),
    # Dates and other values
    "date": FilterSpec((Param("format", Kind.STRING),), required=1),
    "date_format": FilterSpec(
        (Param("format", Kind.STRING), Param("timezone", Kind.TIMEZONE)), required=1
    ),
    "add_days": _shift("days"),
    "add_hours": _shift("hours"),
    "add_minutes": _shift("minutes"),
    "default": FilterSpec(
        (Param("fallback value", Kind.ANY),), keywords={"allow_false": Kind.BOOLEAN}
    ),
}

_UNKNOWN = object()  # a variable argument at save time: its value is known only at render

# Keeps the bounds of round's places where Decimal.quantize stays cheap and meaningful (a
# float has 17 significant digits).
MAX_ROUND_PLACES = 20


# ---------------------------------------------------------------------------------------------
# Kinds of values


def describe(value: Any) -> str:
    """A value's kind in a user's words (never a Python type name)."""
    if value is None or isinstance(value, Undefined):
        return "nothing (empty)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, range)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if hasattr(value, "year"):
        return "a date"
    return "a value"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "…"
        return f"'{text}'"
    if value is None or isinstance(value, Undefined):
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, range):
        return f"({value.start}..{value.stop - 1})"
    return describe(value) if not isinstance(value, (int, float)) else str(value)


def _empty(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and len(value.strip()) <= limits.MAX_NUMBER_TEXT:
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def kind_problem(kind: Kind, value: Any, *, rendering: bool) -> str | None:
    """Why ``value`` is not of ``kind`` (None when it is). An empty value at render is
    Liquid's "nothing" and accepted wherever Liquid gives it a meaning (text, numbers, lists)."""
    if kind is Kind.ANY:
        return None
    if _empty(value):
        if rendering and kind in (Kind.TEXT, Kind.NUMBER, Kind.LIST, Kind.TIMEZONE, Kind.BOOLEAN):
            return None
        return "is empty"
    if kind is Kind.BOOLEAN:
        return None if isinstance(value, bool) else "wrong"
    if isinstance(value, bool):
        return "wrong"
    if kind is Kind.TEXT:
        return None if isinstance(value, (str, int, float, Decimal)) else "wrong"
    if kind is Kind.STRING:
        return None if isinstance(value, str) else "wrong"
    if kind is Kind.LIST:
        return None if isinstance(value, (list, tuple, range)) else "wrong"
    if kind is Kind.TIMEZONE:
        if not isinstance(value, str):
            return "wrong"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return "unknown"
        return None
    number = _as_number(value)
    if number is None or not number.is_finite():
        return "wrong"
    if abs(number) > limits.MAX_NUMBER:
        return "too big"
    if kind is Kind.WHOLE and number != number.to_integral_value():
        return "wrong"
    return None


def _kind_message(name: str, param: Param, value: Any, problem: str) -> str:
    if problem == "is empty":
        return f"{name}: the {param.label} is empty; it must be {param.kind.value}"
    if problem == "unknown":
        return f"{name}: unknown timezone {_shown(value)}; it must be {param.kind.value}"
    if problem == "too big":
        return (
            f"{name}: the {param.label} {_shown(value)} is out of range (at most "
            f"{limits.MAX_NUMBER:.0e} either side of 0)"
        )
    return f"{name}: the {param.label} must be {param.kind.value}, got {_shown(value)}"


def _count_message(name: str, spec: FilterSpec, given: int) -> str | None:
    most = len(spec.params)
    if spec.required <= given <= most:
        return None
    got = "none" if given == 0 else str(given)
    if most == 0:
        return f"{name} takes no arguments, got {got}"
    if given < spec.required:
        needs = "an argument" if spec.required == 1 else f"{spec.required} arguments"
        return f"{name} needs {needs} ({spec.usage(name)}), got {got}"
    plural = "s" if most > 1 else ""
    return f"{name} takes at most {most} argument{plural} ({spec.usage(name)}), got {given}"


def call_problems(
    name: str, positional: list[Any], keywords: Mapping[str, Any], *, rendering: bool
) -> list[str]:
    """Count, kinds and options of one filter call (values of literals at save time, or the
    actual values at render)."""
    spec = SPECS.get(name)
    if spec is None:
        return []
    problems: list[str] = []
    count = _count_message(name, spec, len(positional))
    if count:
        problems.append(count)
    for param, value in zip(spec.params, positional, strict=False):
        if value is _UNKNOWN:
            continue
        problem = kind_problem(param.kind, value, rendering=rendering)
        if problem:
            problems.append(_kind_message(name, param, value, problem))
    if name == "round" and positional and positional[0] is not _UNKNOWN:
        places = _as_number(positional[0])
        if places is not None and not 0 <= places <= MAX_ROUND_PLACES:
            problems.append(
                f"round: the decimal places must be a whole number from 0 to {MAX_ROUND_PLACES}, "
                f"got {_shown(positional[0])}"
            )
    for key, value in keywords.items():
        kind = spec.keywords.get(key)
        if kind is None:
            allowed = ", ".join(sorted(spec.keywords)) or "none"
            problems.append(f"{name} has no option '{key}' (options: {allowed})")
        elif value is not _UNKNOWN:
            problem = kind_problem(kind, value, rendering=rendering)
            if problem:
                problems.append(_kind_message(name, Param(key, kind), value, problem))
    return problems


# ---------------------------------------------------------------------------------------------
# Save time: every filter call in a parsed template


def _literal(expression: Expression) -> Any:
    if isinstance(expression, (StringLiteral, IntegerLiteral, FloatLiteral)):
        return expression.value
    if isinstance(expression, TrueLiteral):
        return True
    if isinstance(expression, FalseLiteral):
        return False
    if isinstance(expression, Nil):
        return None
    if isinstance(expression, RangeLiteral):
        start, stop = _literal(expression.start), _literal(expression.stop)
        if isinstance(start, int) and isinstance(stop, int):
            return range(start, stop + 1)
    return _UNKNOWN


def _filters_in(template: BoundTemplate) -> Iterator[Filter]:
    static = RenderContext(template)
    nodes = list(template.nodes)
    while nodes:
        node = nodes.pop()
        expressions = list(node.expressions())
        while expressions:
            expression = expressions.pop()
            for attribute in ("filters", "tail_filters"):
                yield from getattr(expression, attribute, None) or ()
            expressions.extend(expression.children())
        nodes.extend(node.children(static, include_partials=False))


def filter_call_problems(template: BoundTemplate) -> list[str]:
    """Problems of every filter call in ``template`` that can be seen without data."""
    problems: list[str] = []
    for call in _filters_in(template):
        positional = [
            _literal(arg.value) for arg in call.args if not isinstance(arg, KeywordArgument)
        ]
        keywords = {
            arg.name: _literal(arg.value) for arg in call.args if isinstance(arg, KeywordArgument)
        }
        for problem in call_problems(call.name, positional, keywords, rendering=False):
            if problem not in problems:
                problems.append(problem)
    return problems


# ---------------------------------------------------------------------------------------------
# Render time: the guard around every filter


class GuardedFilter:
    """One filter under the name the user writes: arguments checked, input, work and result
    bounded, and failures worded for the user."""

    def __init__(
        self, name: str, func: Callable[..., Any], spec: FilterSpec, env: Environment
    ) -> None:
        self.name = name
        self.func = func
        self.spec = spec
        self.env = env
        self.takes_environment = bool(getattr(func, "with_environment", False))

    def __call__(self, left: Any, *args: Any, **kwargs: Any) -> Any:
        name = self.name
        problems = call_problems(name, list(args), kwargs, rendering=True)
        if problems:
            raise FilterArgumentError(problems[0], token=None)
        budget = limits.current_budget()
        numeric = self.spec.numeric
        work = limits.check_value(name, left, numbers=numeric)
        for arg in args:
            work += limits.check_value(name, arg, numbers=numeric)
        if self.spec.numeric:
            left = _bounded_number_input(name, left)
            args = tuple(_bounded_number_input(name, arg) for arg in args)
        left, args = _nothing_as_empty_text(name, self.spec, left, args)
        _check_growth(name, left, args)
        budget.spend_work(work)
        if self.takes_environment:
            kwargs["environment"] = self.env
        try:
            result = self.func(left, *args, **kwargs)
        except limits.TemplateLimitError:
            raise
        except LiquidError as err:
            raise FilterArgumentError(_liquid_message(name, err, left), token=None) from err
        except (
            TypeError,
            ValueError,
            ArithmeticError,
            KeyError,
            IndexError,
            AttributeError,
        ) as err:
            raise FilterArgumentError(
                f"{name} cannot be applied to {describe(left)}", token=None
            ) from err
        budget.spend_work(limits.check_value(name, result, numbers=numeric))
        return result


def _liquid_message(name: str, err: LiquidError, left: Any) -> str:
    # Liquid wraps Python's own TypeErrors ("'int' object is not subscriptable"): those say
    # nothing to a user. Its own messages ("can't divide by 0") are kept, under the name used.
    if isinstance(err.__cause__, (TypeError, AttributeError, KeyError, IndexError)):
        return f"{name} cannot be applied to {describe(left)}"
    message = str(err.message)
    return message if message.startswith(f"{name}:") else f"{name}: {message}"


def _nothing_as_empty_text(
    name: str, spec: FilterSpec, left: Any, args: tuple[Any, ...]
) -> tuple[Any, tuple[Any, ...]]:
    """A null (a record field with no value) is empty text where text is expected, as
    Liquid's output says it: Liquid's text filters write str(None), so ``append:
    record.last_name`` gave "John None" and ``join`` gave "a,None"."""
    args = tuple(
        "" if arg is None and i < len(spec.params) and spec.params[i].kind is Kind.TEXT else arg
        for i, arg in enumerate(args)
    )
    if name == "join" and isinstance(left, (list, tuple)) and None in left:
        left = ["" if item is None else item for item in left]
    return left, args


def _bounded_number_input(name: str, value: Any) -> Any:
    if isinstance(value, str):
        return limits.number_from_text(name, value)
    return value


def _check_growth(name: str, left: Any, args: tuple[Any, ...]) -> None:
    """Refuse, before doing the work, the filters whose result can outgrow their input many
    times over (every other filter's result is at most a few times its input, and checked)."""
    if name in ("replace", "replace_first", "replace_last") and isinstance(left, str):
        find = "" if not args or _empty(args[0]) else str(args[0])
        sub = "" if len(args) < 2 or _empty(args[1]) else str(args[1])
        if name != "replace":
            matches = 1
        else:  # an empty text to find matches between every two characters
            matches = len(left) + 1 if not find else left.count(find)
        limits.check_length(name, len(left) + matches * len(sub))
    elif name == "join" and isinstance(left, (list, tuple, range)):
        sep = " " if not args or _empty(args[0]) else str(args[0])
        pieces = limits.size_of(left, limits.MAX_TEXT_CHARS)
        limits.check_length(name, len(sep) * max(len(left) - 1, 0) + pieces)
    elif name == "split" and isinstance(left, str):
        sep = "" if not args or _empty(args[0]) else str(args[0])
        if sep == "":
            pieces = len(left)
        elif sep == " ":  # Liquid splits on any run of whitespace then
            pieces = sum(1 for ch in left if ch.isspace()) + 1
        else:
            pieces = left.count(sep) + 1
        limits.check_items(name, pieces)


def guard_filters(env: Environment) -> None:
    """Replace every filter of ``env`` by its guarded self; drop filters with no spec (a new
    Liquid version's filters stay unavailable until someone writes what they accept)."""
    for name in list(env.filters):
        spec = SPECS.get(name)
        if spec is None:
            del env.filters[name]
            continue
        env.filters[name] = GuardedFilter(name, env.filters[name], spec, env)
