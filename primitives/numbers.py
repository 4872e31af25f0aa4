"""The one way a number given by a user is read: record fields, condition values and the
record values conditions compare (plain Python, no Django: the engine uses it too).

Bounds, and why: record values are stored as JSON and read back by Python's `json` as an `int`
or a `float` (an IEEE double). A double holds any decimal of up to 15 significant digits
exactly (DBL_DIG), and every integer below 10^15 (< 2^53), so a number inside these bounds
comes back exactly as it was typed. They are also what a CRM needs: 10^15 is a thousand
trillion (no amount, quantity or score comes near), and spreadsheets keep 15 digits too.

- Too large (10^15 or more) is refused: rounding cannot make it fit.
- More precise than 15 significant digits or 15 decimal places is rounded (half to even), as a
  spreadsheet or a `numeric(30, 15)` column does: `0.1 + 0.2` is 0.30000000000000004 as a
  double, and an automation computing `{{record.value | times: 1.1}}` must be able to store it.
- Written with more than MAX_TEXT characters is refused: nobody means 5,000 digits.

Without the bounds, `1e1000000` becomes a million-digit integer (23 s of CPU) and `"9" * 5000`
cannot be written as JSON (a 500): every check here works on the digits as parsed, never on the
value expanded.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

MAX_DIGITS = 15
# Magnitudes must be below this; the smallest step is 10^-MAX_DIGITS (see _bounded).
LIMIT = Decimal(10) ** MAX_DIGITS
# The longest number written as text that is read: 10^15 with 15 decimals, a sign, a point and
# an exponent fit with room to spare (templates' numeric filters use the same bound).
MAX_TEXT = 40
_SIGNIFICANT = Context(prec=MAX_DIGITS, rounding=ROUND_HALF_EVEN)
_SMALLEST_STEP = Decimal(1).scaleb(-MAX_DIGITS)
# Signs, digits, one point and an exponent; no "_", "NaN", "Infinity" (which Decimal accepts).
_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
_NOT_FINITE = re.compile(r"[+-]?(?:s?nan|inf(?:inity)?)", re.IGNORECASE)
# What the errors say (and the README): the same words wherever a number is refused.
TOO_LARGE = "is too large: numbers must be smaller than 10^15 (1,000,000,000,000,000) in size"
TOO_PRECISE = (
    f"has too many digits: a number may be written with at most {MAX_TEXT} characters "
    f"(numbers keep {MAX_DIGITS} significant digits and {MAX_DIGITS} decimal places)"
)


class NumberError(ValueError):
    """The value is not a number this service can keep; the message says why, for a user."""


class NumberOutOfRange(NumberError):
    """A well-formed number outside the bounds (too large, or too many digits)."""


def shown(value: Any, limit: int = 40) -> str:
    """`value` as quoted in an error message, cut short (an error must not echo 5,000 digits)."""
    if isinstance(value, int) and value.bit_length() > 4 * limit:
        # repr() of a huge int is itself costly (and refused beyond 4,300 digits).
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def parse_number(value: Any) -> Decimal:
    """Read an int, float, Decimal or numeric string as an exact, bounded Decimal.

    Raises NumberError for anything else (booleans included: True is not 1 for a CRM user),
    for NaN and infinities, and for values outside the bounds above. Costs time linear in the
    length of the input whatever its exponent says.
    """
    if isinstance(value, bool):
        raise NumberError("must be a number, not a boolean")
    if isinstance(value, int):
        if -LIMIT < value < LIMIT:  # compared before any conversion: ints may be huge
            return Decimal(value)
        raise NumberOutOfRange(f"{TOO_LARGE}; got {shown(value)}")
    if isinstance(value, float):
        number = Decimal(repr(value))  # repr: 0.1 is Decimal("0.1"), not the binary expansion
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if _NOT_FINITE.fullmatch(text):
            raise NumberError("must be a finite number")
        if not _NUMBER.fullmatch(text):
            raise NumberError(f"must be a number, got {shown(value)}")
        try:
            number = Decimal(text)
        except InvalidOperation:  # an exponent beyond what Decimal can hold at all
            message = TOO_PRECISE if "e-" in text.lower() else TOO_LARGE
            raise NumberOutOfRange(f"{message}; got {shown(value)}") from None
    else:
        raise NumberError(f"must be a number, got {shown(value)}")  # the value, not a type name
    if not number.is_finite():
        raise NumberError("must be a finite number")
    return _bounded(number, value)


def _bounded(number: Decimal, value: Any) -> Decimal:
    """`number` rounded to the kept digits, or NumberOutOfRange (see the module docstring)."""
    if not number:
        return Decimal(0)  # zero, however it is written ("0e999999")
    # adjusted(): the power of ten of the leading digit, read off the parse (no expansion).
    if number.adjusted() >= MAX_DIGITS:
        raise NumberOutOfRange(f"{TOO_LARGE}; got {shown(value)}")
    if isinstance(value, str) and len(value.strip()) > MAX_TEXT:
        raise NumberOutOfRange(f"{TOO_PRECISE}; got {shown(value)}")
    rounded = _SIGNIFICANT.plus(number)
    if rounded.adjusted() < 0:  # below 1: at most 15 significant digits, all of them decimals
        rounded = rounded.quantize(_SMALLEST_STEP, rounding=ROUND_HALF_EVEN)
    if rounded.adjusted() >= MAX_DIGITS:  # 999999999999999.9 rounds up to 10^15
        raise NumberOutOfRange(f"{TOO_LARGE}; got {shown(value)}")
    return rounded


def json_number(number: Decimal) -> int | float:
    """The stored (JSON) form of a bounded number: integers stay integers."""
    return int(number) if number == number.to_integral_value() else float(number)
