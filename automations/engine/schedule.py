"""Cron schedules read as wall-clock time in an IANA timezone, with DST handled once.

Only standard 5-field cron (minute hour day-of-month month day-of-week) and the aliases
``@hourly @daily @midnight @weekly @monthly @yearly @annually`` are accepted; croniter's seconds
and year fields, ``@reboot`` and its random/hashed ``R``/``H`` tokens are refused.

DST: croniter 7 given an aware start handles the spring-forward gap but runs an ambiguous
fall-back wall time twice (``30 2 * * *`` fires at 02:30 CEST and again at 02:30 CET). So we let
croniter iterate naive wall times and map each one to an instant ourselves:

* a wall time inside a gap (does not exist) runs once, at the first valid instant after the gap
  (the transition itself: 03:00 CEST for Berlin's 02:00-03:00 gap); several wall times in the
  same gap (``*/15``) collapse into that one run;
* an ambiguous wall time runs once, at its first occurrence (``fold=0``); its second
  occurrence is never scheduled.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from cron_descriptor import Options, get_description
from croniter import CroniterBadDateError, CroniterError, croniter

ALIASES: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
CRON_FIELDS = "minute hour day-of-month month day-of-week"
# Enough to cross any DST overlap minute by minute; a valid expression needs far fewer.
_MAX_CANDIDATES = 10_000
_TOKEN_SPLIT = re.compile(r"[,/\-]")


def _expand(expr: str) -> str:
    text = expr.strip()
    return ALIASES.get(text.lower(), text)


def validate_cron(expr: str) -> str | None:
    """Return an error message, or ``None`` when ``expr`` is a usable 5-field cron."""
    if not isinstance(expr, str) or not expr.strip():
        return "cron expression is required"
    return _cron_error(expr.strip())


@lru_cache(maxsize=1024)
def _cron_error(text: str) -> str | None:
    # Cached: the beat task re-validates the same few expressions on every tick.
    if text.startswith("@"):
        if text.lower() in ALIASES:
            return None
        return f"unsupported cron alias {text!r}; use one of {', '.join(ALIASES)}"
    fields = text.split()
    if len(fields) != 5:
        return f"cron expression must have 5 fields ({CRON_FIELDS}), got {len(fields)}"
    for name, value in zip(CRON_FIELDS.split(), fields, strict=True):
        tokens = {token.split("(")[0].upper() for token in _TOKEN_SPLIT.split(value)}
        if tokens & {"R", "H"}:
            return f"random or hashed values (R, H) are not supported in the {name} field"
    try:
        # Probe from a fixed date: croniter accepts "0 0 30 2 *" but finds no date for it.
        croniter(text, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except CroniterBadDateError:
        return "cron expression never matches a real date"
    except (CroniterError, ValueError, KeyError) as err:
        return f"invalid cron expression: {err}"
    return None


@lru_cache(maxsize=1)
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str) -> str | None:
    """Return an error message, or ``None`` for a known IANA timezone name."""
    if not isinstance(name, str) or not name:
        return "timezone is required"
    # Checking the list (rather than ZoneInfo(name)) also refuses paths like "../x".
    if name not in _timezone_names():
        return f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin'"
    return None


def _first_instant_with_offset(
    low: dt.datetime, high: dt.datetime, tz: ZoneInfo, offset: dt.timedelta
) -> dt.datetime:
    """Binary search (to the second) for the transition instant in ``[low, high]``."""
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while low_s < high_s:
        middle = (low_s + high_s) // 2
        if dt.datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            high_s = middle
        else:
            low_s = middle + 1
    return dt.datetime.fromtimestamp(high_s, dt.UTC)


def resolve_wall_time(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Map a naive wall time in ``tz`` to the UTC instant it runs at (see module docstring)."""
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(dt.UTC)
    round_trip = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip == wall:
        return first.astimezone(dt.UTC)  # ambiguous: the first occurrence
    # A gap: fold=0 and fold=1 land on either side of the transition.
    low, high = sorted((first.astimezone(dt.UTC), second.astimezone(dt.UTC)))
    after_offset = high.astimezone(tz).utcoffset()
    assert after_offset is not None
    return _first_instant_with_offset(low, high, tz, after_offset)


def next_run_after(expr: str, tz_name: str, after: dt.datetime) -> dt.datetime:
    """The first run strictly after ``after`` (aware), as an aware UTC datetime."""
    error = validate_cron(expr) or validate_timezone(tz_name)
    if error:
        raise ValueError(error)
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("'after' must be a timezone-aware datetime")
    tz = ZoneInfo(tz_name)
    # Iterate naive wall times: croniter's own aware iteration doubles fall-back hours.
    wall_start = after.astimezone(tz).replace(tzinfo=None)
    candidates = croniter(_expand(expr), wall_start)
    for _ in range(_MAX_CANDIDATES):
        wall = candidates.get_next(dt.datetime)
        instant = resolve_wall_time(wall, tz)
        # A candidate can map to an instant at or before ``after``: the second pass through an
        # ambiguous hour, or a gap time that collapsed onto a run already made.
        if instant > after:
            return instant
    raise ValueError(f"no run found for {expr!r} after {after.isoformat()}")  # pragma: no cover


def next_runs(expr: str, tz_name: str, after: dt.datetime, count: int = 5) -> list[dt.datetime]:
    """The next ``count`` runs after ``after``, as aware UTC datetimes (for a preview)."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("'after' must be a timezone-aware datetime")
    # Runs fall on whole minutes, so the runs after any moment of a minute are the runs after
    # its start: previews of one expression (an API page lists many) are computed once a minute.
    minute = after.astimezone(dt.UTC).replace(second=0, microsecond=0)
    if not isinstance(expr, str) or not isinstance(tz_name, str):
        return list(_next_runs.__wrapped__(expr, tz_name, minute, count))  # unhashable: no cache
    return list(_next_runs(expr, tz_name, minute, count))


@lru_cache(maxsize=4096)
def _next_runs(expr: str, tz_name: str, after: dt.datetime, count: int) -> tuple[dt.datetime, ...]:
    runs: list[dt.datetime] = []
    moment = after
    for _ in range(count):
        moment = next_run_after(expr, tz_name, moment)
        runs.append(moment)
    return tuple(runs)


def describe_cron(expr: str) -> str:
    """English description, e.g. "At 09:00 AM, Monday through Friday"; the raw text on error."""
    if not isinstance(expr, str):
        return str(expr)
    return _describe_cron(expr)


@lru_cache(maxsize=1024)
def _describe_cron(expr: str) -> str:
    if validate_cron(expr) is not None:
        return str(expr)  # cron-descriptor happily describes "61 * * * *"; we do not
    options = Options()
    options.locale_code = "en_US"
    options.use_24hour_time_format = False
    try:
        return str(get_description(_expand(expr), options))
    except Exception:  # cron-descriptor raises assorted exception types: fall back
        return expr
