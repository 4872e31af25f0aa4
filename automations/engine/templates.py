"""Render ``{{ ... }}`` templates in action configs with python-liquid, safely and fast.

Context roots: ``record``, ``previous``, ``user``, ``now``, ``webhook`` (``body``, ``headers``,
``query``) and ``trigger``. Only plain data reaches a template: mappings become dicts with string
keys, sequences become lists, datetimes become UTC datetimes that print as
``2024-01-17T10:00:00Z``, and any other object becomes its ``str()``. Keys starting with ``_``
are dropped and can never be looked up, so ``{{ record.__class__ }}`` renders empty.

Rendering is lenient (an undefined variable renders empty, ``default`` works) while
``validate_template_value`` checks variables, filters and filters' literal arguments strictly at
save time, using Liquid's static analysis and parse tree rather than regexes
(``template_filters`` says what each filter accepts). Every render is bounded in output, work,
list sizes and numbers (``template_limits``); going past a bound is a ``TemplateError`` naming
the config field, never a worker's MemoryError.

Filters beyond Liquid's built-ins: ``uppercase``, ``lowercase``, ``trim``, ``add_days``,
``add_hours``, ``add_minutes``, ``date_format`` (moment/pendulum tokens, optional timezone
argument) and ``json``; ``round`` is replaced to round half away from zero as Shopify's
Liquid does (Python's ``round(4.5)`` is 4). Date filters accept a datetime, a date or an ISO 8601
string; a date stays a date under ``add_days`` and becomes a UTC datetime under
``add_hours``/``add_minutes``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from io import StringIO
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum
from liquid import BoundTemplate, Environment, RenderContext, Undefined
from liquid.builtin.expressions import logical as liquid_logical
from liquid.builtin.output import OutputNode
from liquid.builtin.tags import case_tag as liquid_case_tag
from liquid.exceptions import FilterArgumentError, LiquidError
from liquid.expression import Expression
from liquid.filter import liquid_filter, math_filter, num_arg
from liquid.output import LimitedStringIO
from liquid.static_analysis import Variable

from automations.engine import template_limits as limits
from automations.engine.template_filters import filter_call_problems, guard_filters
from primitives.jsonpolicy import MAX_DEPTH as JSON_MAX_DEPTH
from primitives.jsonpolicy import TOO_DEEP as JSON_TOO_DEEP
from primitives.timestamps import MomentError, iso, parse_moment

TEMPLATE_ROOTS: frozenset[str] = frozenset(
    {"record", "previous", "user", "now", "webhook", "trigger"}
)
# Always present on a record, whatever fields its module declares.
RECORD_SYSTEM_FIELDS: frozenset[str] = frozenset({"id", "module", "created_at", "updated_at"})
# Context data is JSON the policy let in (an inbound webhook's body at most JSON_MAX_DEPTH deep),
# held two levels down (webhook > body). At 32, a payload the entrance accepted (33 to 64 deep)
# failed every action of its run, even a config with no template in it.
_MAX_CONTEXT_DEPTH = JSON_MAX_DEPTH + 2
# Errors user data can provoke inside filters; they fail the render, never the worker. The
# limits make MemoryError and RecursionError unlikely; they are still a render's failure.
_RENDER_ERRORS = (
    LiquidError,
    ValueError,
    TypeError,
    ArithmeticError,
    KeyError,
    IndexError,
    MemoryError,
    RecursionError,
)
_TEMPLATE_CACHE_SIZE = 4096
# An error message is stored on the run and shown in lists: never a copy of large data.
_MAX_MESSAGE_CHARS = 500


class TemplateError(ValueError):
    """A template could not be parsed or rendered; ``path`` is the config field, if known."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path

    def at(self, path: str) -> TemplateError:
        """The same error, said of the field at ``path`` (the innermost path wins)."""
        return self if self.path else TemplateError(self.reason, path)


def format_datetime(value: dt.datetime) -> str:
    """ISO 8601 in UTC with seconds and ``Z`` (naive datetimes are taken as UTC)."""
    return iso(value) or ""  # iso() is None only for None


class _UtcDateTime(dt.datetime):
    """A UTC datetime that prints the way the API writes datetimes."""

    def __str__(self) -> str:
        return format_datetime(self)


def _utc(value: dt.datetime) -> _UtcDateTime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return _UtcDateTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=dt.UTC,
    )


# ---------------------------------------------------------------------------------------------
# The Liquid environment


class _OutputBuffer(LimitedStringIO):
    """Counts characters (the unit of every template limit, not Liquid's UTF-8 bytes) and
    says which limit was reached."""

    def __init__(self, limit: int, message: str) -> None:
        # liquid's LimitedStringIO defaults to newline=None, which turns "\r\n" in rendered
        # data into "\n"; newline="\n" keeps the data byte for byte.
        super().__init__(limit=limit, newline="\n")
        self.message = message

    def write(self, text: str) -> int:
        if text:
            self.size += len(text)
            if self.size > self.limit:
                raise limits.TemplateLimitError(self.message)
        return StringIO.write(self, text)


def _limited_buffer(carry: int = 0) -> StringIO:
    # One template's output is bounded by MAX_TEXT_CHARS, and by what the render's budget
    # (all the strings of one config) has left.
    left = limits.current_budget().output_left
    if left < limits.MAX_TEXT_CHARS:
        message = (
            f"the rendered config is longer than {limits.MAX_RENDERED_CHARS:,} characters in total"
        )
        return _OutputBuffer(max(left, 0) - carry, message)
    message = f"the template's output is longer than {limits.MAX_TEXT_CHARS:,} characters"
    return _OutputBuffer(limits.MAX_TEXT_CHARS - carry, message)


class _SafeContext(RenderContext):
    """Refuses private and dunder keys anywhere in a path, even if the data has them."""

    def get_item(self, obj: Any, key: Any) -> Any:
        if isinstance(key, str) and key.startswith("_"):
            raise KeyError(key)
        return super().get_item(obj, key)

    def stopindex(self, key: str, index: int | None = None) -> int:
        # Every ``for`` and ``tablerow`` loop passes here (LoopExpression._slice) with the
        # index it stops at: the items it walks, the ones its ``offset`` skips included, since
        # islice steps through those one by one ((1..10^15) offset: 10^15-10 ran for hours,
        # before the loop's own limit saw a length of 10). Liquid's limit bounds one loop and
        # those nested in it; the render's budget bounds all its loops together.
        if index is not None:
            self.raise_for_loop_limit(index)
            limits.current_budget().spend_iterations(index)
        return super().stopindex(key, index)

    def get_buffer(self, buf: TextIO | None = None) -> StringIO:
        carry = buf.size if isinstance(buf, LimitedStringIO) else 0
        return _limited_buffer(carry)


class _Template(BoundTemplate):
    context_class = _SafeContext

    def _get_buffer(self) -> StringIO:
        return _limited_buffer()


class _Environment(Environment):
    template_class = _Template
    # Bound the work one template can do: renders run inside workers on the hot path. The
    # output limit is enforced in characters by _OutputBuffer; Liquid's own (bytes) is a
    # backstop for any buffer it makes itself.
    loop_iteration_limit = limits.MAX_ITEMS
    output_stream_limit = 4 * limits.MAX_TEXT_CHARS
    local_namespace_limit = 1_000_000


def _moment(value: Any, filter_name: str) -> dt.date | _UtcDateTime | None:
    """Read a filter's input as a date or UTC datetime (by the one ISO 8601 reader, which
    bounds years to 1-9999 in UTC); empty input gives None."""
    if value is None or isinstance(value, Undefined):
        return None
    if not isinstance(value, str | dt.date):
        raise FilterArgumentError(f"{filter_name}: {value!r} is not a date or datetime", token=None)
    if isinstance(value, str) and not value.strip():
        return None
    try:
        moment = parse_moment(value)
    except MomentError as err:
        raise FilterArgumentError(f"{filter_name}: the input {err}", token=None) from None
    return _utc(moment) if isinstance(moment, dt.datetime) else moment


def _whole_number(amount: Any, filter_name: str) -> int:
    if isinstance(amount, int) and not isinstance(amount, bool):
        return amount
    if isinstance(amount, float) and amount.is_integer():
        return int(amount)
    if isinstance(amount, Decimal) and amount.is_finite() and amount == amount.to_integral_value():
        return int(amount)
    if isinstance(amount, str):
        # The same reading as the argument check in template_filters ("2", "1e3", "-1.0").
        try:
            number = Decimal(amount.strip())
        except decimal.InvalidOperation:
            number = None
        if number is not None and number.is_finite() and number == number.to_integral_value():
            return int(number)
    raise FilterArgumentError(f"{filter_name}: expected a whole number, got {amount!r}", token=None)


def _shift(value: Any, amount: Any, filter_name: str, unit: str) -> Any:
    moment = _moment(value, filter_name)
    if moment is None:
        return None
    count = _whole_number(amount, filter_name)
    try:
        delta = dt.timedelta(**{unit: count})
        if isinstance(moment, dt.datetime):
            return _utc(moment + delta)
        if unit == "days":
            return moment + delta
        midnight = dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)
        return _utc(midnight + delta)
    except OverflowError as err:
        raise FilterArgumentError(f"{filter_name}: result is out of range", token=None) from err


@liquid_filter
def _add_days(value: Any, days: Any) -> Any:
    return _shift(value, days, "add_days", "days")


@liquid_filter
def _add_hours(value: Any, hours: Any) -> Any:
    return _shift(value, hours, "add_hours", "hours")


@liquid_filter
def _add_minutes(value: Any, minutes: Any) -> Any:
    return _shift(value, minutes, "add_minutes", "minutes")


@liquid_filter
def _date_format(value: Any, fmt: Any, tz: Any = None) -> str | None:
    moment = _moment(value, "date_format")
    if moment is None:
        return None
    if not isinstance(fmt, str):
        raise FilterArgumentError("date_format: the format must be a string", token=None)
    if not isinstance(moment, dt.datetime):
        return pendulum.date(moment.year, moment.month, moment.day).format(fmt)
    zone = "UTC" if tz is None or isinstance(tz, Undefined) else str(tz)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise FilterArgumentError(f"date_format: unknown timezone {zone!r}", token=None) from err
    try:
        return pendulum.instance(moment).in_timezone(zone).format(fmt)
    except (OverflowError, ValueError) as err:  # 9999-12-31T23:00Z is in year 10000 in Kiritimati
        raise FilterArgumentError(
            f"date_format: the moment is out of range in timezone {zone!r}", token=None
        ) from err


@math_filter
def _round(number: float, places: Any = None) -> float | int:
    """Round half away from zero like Shopify's Liquid (Python's round(4.5) gives 4)."""
    digits = 0
    if places is not None and not isinstance(places, Undefined):
        try:
            digits = int(num_arg(places))
        except FilterArgumentError:
            digits = 0
    if digits < 0:
        return 0
    if isinstance(number, int):
        return number
    with decimal.localcontext() as context:
        context.prec = 400  # enough for any float, so quantize never overflows
        rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-digits), decimal.ROUND_HALF_UP)
    return int(rounded) if digits == 0 else float(rounded)


@liquid_filter
def _json(value: Any) -> str:
    return json.dumps(to_json_value(value), ensure_ascii=False)


def _comparison_cost(value: Any) -> int:
    if isinstance(value, (str, list, tuple, Mapping, range)):
        try:
            return len(value)
        except OverflowError:  # a range longer than any index
            return limits.MAX_WORK + 1
    return 1


def _charged(compare: Callable[..., bool]) -> Callable[..., bool]:
    def charged(*args: Any) -> bool:
        # The two values compared are the last arguments (some take a token first).
        limits.current_budget().spend_work(_comparison_cost(args[-2]) + _comparison_cost(args[-1]))
        return compare(*args)

    return charged


def _charge_comparisons() -> None:
    """Make ``==``, ``<``, ``contains`` and ``case``/``when`` spend the render's work budget:
    they are no filters, yet compare whole values (``list contains x`` walks the list, and so
    does ``x in range`` for anything but an integer), so 10 loops of 10,000 comparisons of a
    10,000-item list took 12 s. Liquid looks these helpers up by module name at each call."""
    for module, names in (
        (liquid_logical, ("_eq", "_lt", "_le", "_contains")),
        (liquid_case_tag, ("_eq",)),
    ):
        for name in names:
            compare = getattr(module, name)
            if not getattr(compare, "charged", False):
                wrapped = _charged(compare)
                wrapped.charged = True  # type: ignore[attr-defined]
                setattr(module, name, wrapped)


def _build_environment() -> Environment:
    env = _Environment()
    # No partials: a template must not be able to pull in other templates.
    for tag in ("include", "render"):
        env.tags.pop(tag, None)
    builtin = env.filters
    env.filters.update(
        {
            "uppercase": builtin["upcase"],
            "lowercase": builtin["downcase"],
            "trim": builtin["strip"],
            "add_days": _add_days,
            "add_hours": _add_hours,
            "add_minutes": _add_minutes,
            "date_format": _date_format,
            "json": _json,
            "round": _round,
        }
    )
    guard_filters(env)
    _charge_comparisons()
    return env


ENVIRONMENT = _build_environment()
FILTER_NAMES: frozenset[str] = frozenset(ENVIRONMENT.filters)


# ---------------------------------------------------------------------------------------------
# Context and values


def build_context(
    *,
    record: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    webhook: Mapping[str, Any] | None = None,
    trigger: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The render context for one event; roots that do not apply are left out."""
    context: dict[str, Any] = {"now": now or dt.datetime.now(dt.UTC)}
    roots = {
        "record": record,
        "previous": previous,
        "user": user,
        "webhook": webhook,
        "trigger": trigger,
    }
    context.update({name: value for name, value in roots.items() if value is not None})
    return context


def _plain(value: Any, depth: int = 0) -> Any:
    """Copy context data into plain dicts/lists/scalars a template may safely see."""
    if depth > _MAX_CONTEXT_DEPTH:
        raise TemplateError("template context is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, str):
        return str(value)  # drops str subclasses such as markupsafe.Markup
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, Mapping):
        return {
            str(key): _plain(item, depth + 1)
            for key, item in value.items()
            if not str(key).startswith("_")
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item, depth + 1) for item in value]
    return str(value)


def to_json_value(value: Any) -> Any:
    """Turn a rendered value into JSON data: datetimes to ISO strings, Decimals to numbers."""
    if value is None or isinstance(value, Undefined):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise limits.TemplateLimitError("the result is not a finite number")
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise limits.TemplateLimitError("the result is not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, range):
        # (1..N) is a tiny object until it is listed: list it only within the limit.
        limits.check_items("the template's value", len(value))
        return list(value)
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    return str(value)


# ---------------------------------------------------------------------------------------------
# Parsing and rendering


@dataclass(frozen=True)
class _Compiled:
    template: BoundTemplate
    # Set when the whole source is one ``{{ ... }}``: its value keeps its JSON type.
    single: Expression | None


# Python's names for the kinds of values, as some of Liquid's own messages quote them ("'<' and
# '>' are not supported between 'int' and 'list'", "expected an integer, found str").
_KIND_WORDS = {
    "int": "a number",
    "float": "a number",
    "Decimal": "a number",
    "bool": "true/false",
    "str": "text",
    "list": "a list",
    "tuple": "a list",
    "range": "a range",
    "dict": "an object",
    "NoneType": "nothing",
    "date": "a date",
    "datetime": "a date",
    "_UtcDateTime": "a date",
}
_COMPARED = re.compile(
    r"^'(<' and '>|in' and 'contains)' are not supported between '(\w+)' and '(\w+)'"
)
_EXPECTED_INTEGER = re.compile(r"^expected an integer, found (\w+)$")
_LONG_INTEGER = re.compile(r"^integer string conversion limit \((\d+)\) reached.*")


def _kind_words(name: str) -> str:
    return _KIND_WORDS.get(name, "a value" if name[:1].isupper() or name[:1] == "_" else name)


def _in_user_words(message: str) -> str:
    """A Liquid message without Python's type names or its integer conversion limit."""
    if match := _COMPARED.match(message):
        operators = "'<' and '>'" if match[1].startswith("<") else "'contains'"
        return f"{operators} cannot compare {_kind_words(match[2])} with {_kind_words(match[3])}"
    if match := _EXPECTED_INTEGER.match(message):
        return f"expected a whole number, found {_kind_words(match[1])}"
    if match := _LONG_INTEGER.match(message):
        return f"expected a whole number, found a number with more than {int(match[1]):,} digits"
    return message


def _error_message(err: BaseException) -> str:
    # Never a Python exception's own text: it speaks of types and arguments the user never
    # wrote. Liquid's messages (and ours, raised as Liquid errors) are for users.
    if isinstance(err, MemoryError):
        return "the template needs more memory than a template may use"
    if isinstance(err, RecursionError):
        return "the template is nested too deeply"
    if not isinstance(err, LiquidError):
        return "the template could not be rendered with this data"
    where = err.context()
    message = _in_user_words(str(err.message))
    if len(message) > _MAX_MESSAGE_CHARS:  # some of Liquid's messages quote the data
        message = message[:_MAX_MESSAGE_CHARS] + "…"
    return f"{message} (line {where[0]}, column {where[1] + 1})" if where else message


@lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _compile(source: str) -> _Compiled:
    try:
        template = ENVIRONMENT.from_string(source)
    except LiquidError as err:
        raise TemplateError(f"template syntax error: {_error_message(err)}") from err
    nodes = template.nodes
    single = nodes[0].expression if len(nodes) == 1 and type(nodes[0]) is OutputNode else None
    return _Compiled(template=template, single=single)


def _has_markup(source: str) -> bool:
    return "{{" in source or "{%" in source


def _render_prepared(source: str, context: Mapping[str, Any]) -> str:
    budget = limits.current_budget()
    if not _has_markup(source):
        budget.spend_output(len(source))
        return source
    compiled = _compile(source)
    try:
        text = compiled.template.render(context)
        budget.spend_output(len(text))
    except _RENDER_ERRORS as err:
        raise TemplateError(_error_message(err)) from err
    return text


def _value_prepared(source: str, context: Mapping[str, Any]) -> Any:
    if not _has_markup(source):
        return _render_prepared(source, context)
    compiled = _compile(source)
    if compiled.single is None:
        return _render_prepared(source, context)
    template = compiled.template
    render_context = template.context_class(template, globals=context)
    try:
        value = to_json_value(compiled.single.evaluate(render_context))
        # A single placeholder's value is never written to an output buffer: it is measured
        # here, against the same limits as text output.
        size = limits.size_of(value, limits.MAX_TEXT_CHARS)
        if size > limits.MAX_TEXT_CHARS:
            raise limits.TemplateLimitError(
                f"the template's value is larger than {limits.MAX_TEXT_CHARS:,} characters"
            )
        limits.current_budget().spend_output(size)
    except _RENDER_ERRORS as err:
        raise TemplateError(_error_message(err)) from err
    return value


def _walk_render(value: Any, context: Mapping[str, Any], path: str, depth: int = 0) -> Any:
    if isinstance(value, str):
        try:
            return _value_prepared(value, context)
        except TemplateError as err:
            raise err.at(path) from err
    if depth >= JSON_MAX_DEPTH and isinstance(value, (Mapping, list, tuple)):
        # Only a config stored around save validation (which refuses it) gets here: refuse it
        # as the run would, before recursion reaches Python's limit (a 500 in the dry run).
        raise TemplateError(f"the value is nested too deeply: it {JSON_TOO_DEEP}", path)
    if isinstance(value, Mapping):
        return {
            key: _walk_render(item, context, f"{path}.{key}" if path else str(key), depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [
            _walk_render(item, context, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)
        ]
    return value


def render_string(template: str, context: Mapping[str, Any], *, path: str = "") -> str:
    """Render ``template`` to text within one render's limits. Raises ``TemplateError``
    (said of ``path`` when given)."""
    with limits.budget():
        try:
            return _render_prepared(template, _plain(context))
        except TemplateError as err:
            raise (err.at(path) if path else err) from err


def render_value(value: Any, context: Mapping[str, Any], *, path: str = "") -> Any:
    """Render every string inside dicts/lists (keys stay as written), all of them within one
    render's limits (``template_limits``).

    A string that is exactly one ``{{ ... }}`` keeps its result's JSON type (number, bool,
    null, list, object; datetimes become ISO strings); any other string renders to text. A
    ``TemplateError`` names the field that failed, under ``path`` (``actions[0].config``).
    """
    with limits.budget():
        return _walk_render(value, _plain(context), path)


# ---------------------------------------------------------------------------------------------
# Save-time validation


def _variable_error(
    variable: Variable, allowed_roots: set[str] | frozenset[str], record_fields: set[str] | None
) -> str | None:
    segments, name = variable.segments, str(variable)
    root = segments[0]
    if any(isinstance(s, str) and s.startswith("_") for s in segments):
        return f"variable '{name}' uses a private name"
    if root not in allowed_roots:
        if root == "previous":
            return f"unknown variable '{name}': previous values exist only for update triggers"
        return f"unknown variable '{name}'"
    if record_fields is not None and root in ("record", "previous") and len(segments) > 1:
        key = segments[1]
        if isinstance(key, list):
            return None  # a dynamic key, e.g. record[trigger.field]; cannot be checked
        if key not in record_fields and key not in RECORD_SYSTEM_FIELDS:
            return f"unknown variable '{name}': no field {str(key)!r} in this module"
    return None


def _template_errors(
    source: str,
    allowed_roots: set[str] | frozenset[str],
    record_fields: set[str] | None,
) -> list[str]:
    try:
        template = _compile(source).template
    except TemplateError as err:
        return [str(err)]
    analysis = template.analyze(include_partials=False)
    messages: list[str] = []
    for variables in analysis.globals.values():
        for variable in variables:
            message = _variable_error(variable, allowed_roots, record_fields)
            if message and message not in messages:
                messages.append(message)
    for name in analysis.filters:
        if name not in ENVIRONMENT.filters:
            messages.append(f"unknown filter '{name}'")
    messages += [m for m in filter_call_problems(template) if m not in messages]
    return messages


def validate_template_value(
    value: Any,
    *,
    allowed_roots: set[str] | frozenset[str],
    record_fields: set[str] | None,
    path: str,
) -> list[tuple[str, str]]:
    """Check every template string inside ``value``; returns ``(path, message)`` pairs."""
    if isinstance(value, str):
        if not _has_markup(value):
            return []
        return [
            (path, message) for message in _template_errors(value, allowed_roots, record_fields)
        ]
    errors: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            errors += validate_template_value(
                item, allowed_roots=allowed_roots, record_fields=record_fields, path=f"{path}.{key}"
            )
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            errors += validate_template_value(
                item,
                allowed_roots=allowed_roots,
                record_fields=record_fields,
                path=f"{path}[{index}]",
            )
    return errors
