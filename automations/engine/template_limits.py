"""How much a template may make and do: sizes, items, work and numbers, per render.

A template runs inside web processes (the dry run) and workers (real runs) with data it does
not control, so every render is bounded in what it outputs, in the work its filters do and in
the memory they can claim. The bounds are checked *before* the expensive step where it can be
computed (``replace`` counts its matches, ``join`` adds up its pieces, ``split`` counts its
separators), and on every filter's result, so no value inside a render ever grows past them.

Plain Python: no Django, no Liquid rendering (only its exception type, so that a limit error
carries the template's line and column like Liquid's own errors).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from liquid.exceptions import FilterArgumentError

from primitives.numbers import LIMIT as NUMBER_LIMIT

# The largest text one template may produce, and any text a filter may make on the way. The
# same as the API's largest request body (1 MB): a rendered value is never bigger than a whole
# definition could be, and a relayed inbound webhook body (at most 256 KB) fits with room.
MAX_TEXT_CHARS = 1_000_000
# All the strings of one rendered action config together: many fields of one config must not
# multiply the limit above (the rendered config is sent, stored truncated and previewed).
MAX_RENDERED_CHARS = 1_000_000
# Items in one list a filter reads or makes: ``(1..N)``, ``split``, ``concat``, ``map``...
# The same as Liquid's loop iteration limit (templates.py), so a list a template can make is
# never longer than a loop it can walk.
MAX_ITEMS = 10_000
# Characters and items all filter calls of one render may read and write, counted per call.
# Five times the output limit: a real template (a few filters on record values, one json of a
# relayed 256 KB webhook body) uses a tenth of it at most, while a loop that re-reads a large
# list 10,000 times stops after about a second instead of running for 20 s or more.
MAX_WORK = 5_000_000
# Loop iterations of one render, all loops together. Liquid's loop limit (MAX_ITEMS) bounds one
# loop and the loops nested in it, not loops side by side: 200 loops of 10,000 in a 7.6 KB
# template ran 2,000,000 empty iterations (19 s of a worker). Ten loops of the largest list a
# template may walk is more than any real config needs; 100,000 empty iterations take ~0.2 s.
MAX_LOOP_ITERATIONS = 10 * MAX_ITEMS
# The largest magnitude a number may have in or out of a numeric filter: the bound of every
# number a user gives (primitives.numbers says why 10^15). It also caps the cost of integer
# arithmetic (repeated ``times`` can otherwise build numbers with millions of digits).
MAX_NUMBER = int(NUMBER_LIMIT)
# The longest number written as text that a filter reads ("1e1000000" is short but infinite;
# a 10,000-digit string is finite but not a number anyone means). Enough for 10^15 with 20
# decimals, a sign and an exponent.
MAX_NUMBER_TEXT = 40
# A logged copy of a rendered config (the run's action log, the run page, the dry run's
# preview) keeps at most this many characters of each string; the rest is counted, not stored.
LOGGED_TEXT_CHARS = 2_000


class TemplateLimitError(FilterArgumentError):
    """A render went past one of the limits above (a FilterArgumentError, so Liquid attaches
    the filter's line and column)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, token=None)


def _count(number: int) -> str:
    return f"{number:,}"


def size_of(value: Any, limit: int) -> int:
    """Characters of text plus items of lists/objects in ``value``, counting a value shared
    several times once per appearance; stops counting once past ``limit``."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, range):
            total += len(item)
        elif isinstance(item, (list, tuple)):
            total += len(item)
            # Inline the common case (a list of text and numbers): this runs on every filter.
            for member in item:
                if isinstance(member, str):
                    total += len(member)
                elif isinstance(member, (list, tuple, range, Mapping)):
                    stack.append(member)
        elif isinstance(item, Mapping):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            total += 1
        if total > limit:
            return total
    return total


class Budget:
    """What one render (one action config, or one email template) may still spend."""

    __slots__ = ("iterations_left", "output_left", "work_left")

    def __init__(self) -> None:
        self.output_left = MAX_RENDERED_CHARS
        self.work_left = MAX_WORK
        self.iterations_left = MAX_LOOP_ITERATIONS

    def spend_iterations(self, count: int) -> None:
        """A loop of ``count`` iterations starts (charged whole, as Liquid's own limit is)."""
        self.iterations_left -= count
        if self.iterations_left < 0:
            raise TemplateLimitError(
                f"the template's loops run more than {_count(MAX_LOOP_ITERATIONS)} times in "
                "one render; simplify it"
            )

    def spend_work(self, units: int) -> None:
        self.work_left -= units
        if self.work_left < 0:
            raise TemplateLimitError(
                "the template does too much work (its filters and comparisons read and write "
                f"more than {_count(MAX_WORK)} characters and items in one render); simplify it"
            )

    def spend_output(self, chars: int) -> None:
        self.output_left -= chars
        if self.output_left < 0:
            raise TemplateLimitError(
                f"the rendered config is longer than {_count(MAX_RENDERED_CHARS)} characters "
                "in total"
            )


_CURRENT: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def budget() -> Iterator[Budget]:
    """The budget of the render in progress; a nested call shares the outer render's."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    fresh = Budget()
    token = _CURRENT.set(fresh)
    try:
        yield fresh
    finally:
        _CURRENT.reset(token)


def current_budget() -> Budget:
    """The budget of the render in progress (a throwaway one outside any render)."""
    return _CURRENT.get() or Budget()


def check_length(name: str, length: int) -> None:
    """Refuse a text of ``length`` characters (before or after it is made)."""
    if length > MAX_TEXT_CHARS:
        raise TemplateLimitError(
            f"{name}: the result would be {_count(length)} characters, more than the "
            f"{_count(MAX_TEXT_CHARS)} a template may produce"
        )


def check_items(name: str, count: int) -> None:
    if count > MAX_ITEMS:
        raise TemplateLimitError(
            f"{name}: the list would have {_count(count)} items, more than the "
            f"{_count(MAX_ITEMS)} a template may work on"
        )


def check_value(name: str, value: Any, *, numbers: bool) -> int:
    """Refuse a filter's input or result past the limits; returns its size (for the work).
    Numbers are bounded only where they are computed (``numbers``): a large number that a
    record holds may still pass through ``default`` or ``json`` untouched."""
    if isinstance(value, str):
        check_length(name, len(value))
        return len(value)
    if isinstance(value, (list, tuple, range)):
        check_items(name, len(value))
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if numbers:
            check_number(name, value)
        return 1
    size = size_of(value, MAX_TEXT_CHARS)
    if size > MAX_TEXT_CHARS:
        raise TemplateLimitError(
            f"{name}: the value holds more than {_count(MAX_TEXT_CHARS)} characters and items"
        )
    return size


def check_number(name: str, number: int | float | Decimal) -> None:
    if isinstance(number, float) and not math.isfinite(number):
        raise TemplateLimitError(f"{name}: the result is not a finite number")
    if isinstance(number, Decimal) and not number.is_finite():
        raise TemplateLimitError(f"{name}: the result is not a finite number")
    # One type per comparison: mypy cannot type abs() of the union.
    magnitude = abs(number) if isinstance(number, Decimal) else Decimal(abs(number))
    if magnitude > MAX_NUMBER:
        raise TemplateLimitError(
            f"{name}: the number is out of range (at most {MAX_NUMBER:.0e} either side of 0)"
        )


def number_from_text(name: str, text: str) -> str:
    """Refuse number-looking text a numeric filter cannot read safely; returns it stripped.

    Liquid reads "abc" as 0 (kept: that is its documented leniency), but "1e1000000", "inf"
    and "nan" as floats that are not finite, and any length of digits as an integer.
    """
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_TEXT and _looks_numeric(stripped):
        raise TemplateLimitError(
            f"{name}: the number {stripped[:20]}... has more than {MAX_NUMBER_TEXT} characters"
        )
    try:
        number = float(stripped)
    except ValueError:
        return stripped
    if not math.isfinite(number):
        raise TemplateLimitError(f"{name}: {stripped[:20]!r} is not a finite number")
    if abs(number) > MAX_NUMBER:
        raise TemplateLimitError(
            f"{name}: the number {stripped[:20]} is out of range (at most {MAX_NUMBER:.0e} "
            "either side of 0)"
        )
    return stripped


def _looks_numeric(text: str) -> bool:
    return bool(text) and all(ch in "0123456789+-.eE_ " for ch in text)


# Deeper than any config a person writes (save validation stops at primitives.jsonpolicy's 64);
# a deeper one, stored around that validation, is logged as this placeholder rather than
# walked, so that logging or previewing it cannot crash too.
MAX_LOGGED_DEPTH = 64
TOO_DEEP_TO_LOG = "[nested too deeply to log]"


def truncated_copy(value: Any, max_chars: int = LOGGED_TEXT_CHARS, _depth: int = 0) -> Any:
    """``value`` with every string longer than ``max_chars`` cut, saying how much was cut, and
    anything nested deeper than MAX_LOGGED_DEPTH replaced: what logs and previews keep of a
    rendered config (the action itself gets it whole)."""
    if isinstance(value, str):
        if len(value) <= max_chars:
            return value
        return f"{value[:max_chars]}… [{_count(len(value) - max_chars)} more characters]"
    if isinstance(value, (Mapping, list, tuple)) and _depth >= MAX_LOGGED_DEPTH:
        return TOO_DEEP_TO_LOG
    if isinstance(value, Mapping):
        return {key: truncated_copy(item, max_chars, _depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [truncated_copy(item, max_chars, _depth + 1) for item in value]
    return value
