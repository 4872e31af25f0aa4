"""Validation and normalisation of record values by field type.

Values are stored as JSON: numbers as numbers (integers stay integers), dates as `YYYY-MM-DD`,
datetimes as ISO 8601 UTC with `Z`, booleans as booleans, users as integer ids, references as
`rec_...` ids. `None` (or "") clears a value.
"""

import re
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from primitives.numbers import NumberError, json_number, parse_number, shown
from primitives.timestamps import (
    MomentError,
    MomentOutOfRange,
    iso,
    parse_instant,
    parse_moment,
)
from primitives.user_ids import user_id_value

MAX_TEXT_LENGTH = 10_000
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])
_RECORD_ID = re.compile(r"^rec_[a-z0-9]{4,32}$")


class FieldValueError(ValueError):
    pass


def _number(value: Any) -> int | float:
    # The bounds (15 significant digits, below 10^15) and why: primitives/numbers.py.
    try:
        return json_number(parse_number(value))
    except NumberError as err:
        raise FieldValueError(str(err)) from None


def parse_datetime_value(value: Any) -> datetime:
    """An aware UTC datetime from an ISO 8601 string, a datetime or a date (midnight UTC)."""
    if not isinstance(value, (str, date)):
        raise FieldValueError(f"must be an ISO 8601 date and time, got {shown(value)}")
    try:
        return parse_instant(value)
    except MomentOutOfRange as err:
        raise FieldValueError(str(err)) from None
    except MomentError:
        raise FieldValueError(f"must be an ISO 8601 date and time, got {shown(value)}") from None


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return parse_datetime_value(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise FieldValueError(f"must be a date (YYYY-MM-DD), got {shown(value)}")
    try:
        moment = parse_moment(value)
    except MomentOutOfRange as err:
        raise FieldValueError(str(err)) from None
    except MomentError:
        raise FieldValueError(f"must be a date (YYYY-MM-DD), got {shown(value)}") from None
    # A datetime given to a date field (e.g. `{{now | add_days: 3}}`) keeps its UTC date.
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


def _datetime(value: Any) -> str:
    # iso(): the one timestamp format, with a four-digit year (strftime's %Y writes year 1
    # as "1" on Linux, which nothing would read back).
    return iso(parse_datetime_value(value))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise FieldValueError(f"must be true or false, got {shown(value)}")


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise FieldValueError("must be text, not an object or list")
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if len(text) > MAX_TEXT_LENGTH:
        raise FieldValueError(f"must be at most {MAX_TEXT_LENGTH} characters")
    return text


def _select(value: Any, options: list[str]) -> str:
    text = _text(value)
    for option in options:
        if option == text:
            return option
    for option in options:  # tolerate case differences, store the canonical option
        if option.lower() == text.lower():
            return option
    raise FieldValueError(f"must be one of {', '.join(options)}; got {text!r}")


def _email_value(value: Any) -> str:
    text = _text(value).strip()
    try:
        _email(text)
    except ValidationError:
        raise FieldValueError(f"must be an email address, got {text!r}") from None
    return text


def _url_value(value: Any) -> str:
    text = _text(value).strip()
    try:
        _url(text)
    except ValidationError:
        raise FieldValueError(f"must be an http(s) URL, got {text!r}") from None
    return text


def _reference(value: Any) -> str:
    text = _text(value).strip()
    if not _RECORD_ID.match(text):
        raise FieldValueError(f"must be a record id (rec_...), got {text!r}")
    return text


def _user(value: Any) -> int:
    # The one rule of primitives.user_ids: ASCII digits within bigint ("١٢" is not user 12, and
    # 5,000 digits are not a user either), quoted cut short.
    user_id = user_id_value(value)
    if user_id is None:
        raise FieldValueError(f"must be a user id, got {shown(value)}")
    return user_id


def clean_value(field_type: str, value: Any, *, options: list[str] | None = None) -> Any:
    """Return the stored form of `value` for a field of `field_type`, or raise FieldValueError."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    match field_type:
        case "text":
            return _text(value)
        case "number":
            return _number(value)
        case "date":
            return _date(value)
        case "datetime":
            return _datetime(value)
        case "boolean":
            return _boolean(value)
        case "select":
            return _select(value, options or [])
        case "email":
            return _email_value(value)
        case "url":
            return _url_value(value)
        case "reference":
            return _reference(value)
        case "user":
            return _user(value)
    raise FieldValueError(f"unknown field type {field_type!r}")
