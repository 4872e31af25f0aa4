"""The one way a number given by a user is read: record fields, condition values and the
record values conditions compare (plain Python, no Django: the engine uses it too).

Bounds, and why: record values are stored as JSON and read back by Python's `json` as an `int`
or a `float` (an IEEE double). A double holds any decimal of up to 15 significant digits
exactly (DBL_DIG), and every integer below 10^15 (< 2^53), so a number inside these bounds
comes back exactly as it was typed; beyond them it would come back changed. They are also
what a CRM needs: 10^15 is a thousand trillion (no amount, quantity or score comes near), and
spreadsheets keep 15 digits too. Unbounded, `1e1000000` turned into a million-digit integer
(23 s of CPU) and `"9" * 5000` could not be written as JSON (a 500): every check here works on
the digits as parsed, never on the value expanded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_DIGITS = 15
# Magnitudes must be below this; the smallest step is 10^-MAX_DIGITS (see _check_bounds).
LIMIT = Decimal(10) ** MAX_DIGITS
# Signs, digits, one point and an exponent; no "_", "NaN", "Infinity" (which Decimal accepts).
_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
_NOT_FINITE = re.compile(r"[+-]?(?:s?nan|inf(?:inity)?)", re.IGNORECASE)
# What the errors say (and the README): the same words wherever a number is refused.
TOO_LARGE = "is too large: numbers must be smaller than 10^15 (1,000,000,000,000,000) in size"
TOO_PRECISE = (
    f"has too many digits: numbers keep at most {MAX_DIGITS} significant digits "
    f"and {MAX_DIGITS} decimal places"
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
    _check_bounds(number, value)
    return number


def _check_bounds(number: Decimal, value: Any) -> None:
    _sign, digits, exponent = number.as_tuple()
    exponent = int(exponent)  # finite (checked by the caller), so never "n", "N" or "F"
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:  # 1.500 has two, 1500 has two
        significant -= 1
        exponent += 1
    if digits == (0,) or not any(digits):
        return  # zero, however it is written
    # adjusted(): the power of ten of the leading digit, read off the parse (no expansion).
    if number.adjusted() >= MAX_DIGITS:
        raise NumberOutOfRange(f"{TOO_LARGE}; got {shown(value)}")
    if significant > MAX_DIGITS or exponent < -MAX_DIGITS:
        raise NumberOutOfRange(f"{TOO_PRECISE}; got {shown(value)}")


def json_number(number: Decimal) -> int | float:
    """The stored (JSON) form of a bounded number: integers stay integers."""
    return int(number) if number == number.to_integral_value() else float(number)
