"""The ``delay`` action's duration: validation and conversion to seconds.

Maxima follow the seed: 86400 seconds, 1440 minutes, 24 hours or 7 days. Longer waits belong
to a scheduled automation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNIT_SECONDS: dict[str, int] = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
UNIT_MAXIMUM: dict[str, int] = {"seconds": 86400, "minutes": 1440, "hours": 24, "days": 7}
DELAY_KEYS = frozenset({"duration", "unit"})


def _whole_number(value: Any) -> int | None:
    # bool is an int subclass, and 2.5 minutes would silently become 2 minutes: refuse both.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def validate_delay(config: Any, path: str) -> list[tuple[str, str]]:
    """Return ``(path, message)`` pairs for a delay config; an empty list means valid."""
    if not isinstance(config, Mapping):
        return [(path, "expected an object with 'duration' and 'unit'")]
    errors = [(f"{path}.{key}", f"unknown key '{key}'") for key in config if key not in DELAY_KEYS]
    unit = config.get("unit")
    if "unit" not in config:
        errors.append((f"{path}.unit", "unit is required"))
    elif not isinstance(unit, str) or unit not in UNIT_SECONDS:
        expected = ", ".join(UNIT_SECONDS)
        errors.append((f"{path}.unit", f"unknown unit {unit!r}; expected one of {expected}"))
    if "duration" not in config:
        errors.append((f"{path}.duration", "duration is required"))
        return errors
    duration = _whole_number(config["duration"])
    if duration is None or duration <= 0:
        errors.append((f"{path}.duration", "duration must be a positive whole number"))
    elif isinstance(unit, str) and unit in UNIT_MAXIMUM and duration > UNIT_MAXIMUM[unit]:
        errors.append((f"{path}.duration", f"duration must be at most {UNIT_MAXIMUM[unit]} {unit}"))
    return errors


def delay_seconds(config: Mapping[str, Any]) -> int:
    """Seconds to wait for a valid delay config; raises ``ValueError`` for an invalid one."""
    errors = validate_delay(config, "config")
    if errors:
        raise ValueError("; ".join(f"{where}: {message}" for where, message in errors))
    duration = _whole_number(config["duration"])
    assert duration is not None
    return duration * UNIT_SECONDS[config["unit"]]
