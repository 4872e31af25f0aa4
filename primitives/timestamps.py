"""The one timestamp format of the API, record snapshots, templates and webhook payloads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import overload


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second with `Z` (the seed's format: `2026-03-01T09:00:00Z`);
    naive datetimes are taken as UTC; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat pads the year to four digits (strftime's %Y may not) and costs half as much
    # as strftime: a page of runs formats hundreds of these.
    return value.isoformat(timespec="seconds")[:19] + "Z"


# ---------------------------------------------------------------------------------------------
# Reading: the one parser of ISO 8601 dates and datetimes (record fields, query parameters such
# as `since`, condition values and the record values they compare). Plain Python: the engine
# uses it too.

EARLIEST = "0001-01-01T00:00:00Z"
LATEST = "9999-12-31T23:59:59Z"
OUT_OF_RANGE = f"is out of range: dates and times must fall between {EARLIEST} and {LATEST}"


class MomentError(ValueError):
    """Not an ISO 8601 date or datetime; the message says so, for a user."""


class MomentOutOfRange(MomentError):
    """A well-formed date or datetime outside what a datetime (and the database) can hold."""


def parse_moment(value: date | datetime | str) -> date | datetime:
    """A date for `YYYY-MM-DD` (or a date object), else an aware datetime in UTC (naive ones
    are UTC). Out-of-range instants (`0001-01-01T00:00:00+23:00` is in year 0 in UTC) raise
    MomentError instead of the OverflowError that converting them to UTC raises."""
    if isinstance(value, datetime):
        return _to_utc(value, value)
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise MomentError(f"must be an ISO 8601 date or date and time, got {_shown(value)}")
    text = value.strip()
    if not text or not text[0].isdigit():
        raise MomentError(f"must be an ISO 8601 date or date and time, got {_shown(value)}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MomentError(
            f"must be an ISO 8601 date or date and time, got {_shown(value)}"
        ) from None
    return _to_utc(parsed, value)


def parse_instant(value: date | datetime | str) -> datetime:
    """`parse_moment`, with a date read as midnight UTC."""
    moment = parse_moment(value)
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _to_utc(moment: datetime, original: object) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise MomentOutOfRange(f"{OUT_OF_RANGE}; got {_shown(original)}") from None


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
