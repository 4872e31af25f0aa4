"""The one timestamp format of the API, record snapshots, templates and webhook payloads."""

from __future__ import annotations

from datetime import UTC, datetime


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
