"""The delay action's duration."""

from __future__ import annotations

from typing import Any

import pytest

from automations.engine.durations import delay_seconds, validate_delay

PATH = "actions[2].config"


@pytest.mark.parametrize(
    ("config", "seconds"),
    [
        ({"duration": 300, "unit": "seconds"}, 300),
        ({"duration": 86400, "unit": "seconds"}, 86400),
        ({"duration": 1440, "unit": "minutes"}, 86400),
        ({"duration": 24, "unit": "hours"}, 86400),
        ({"duration": 7, "unit": "days"}, 604800),
        ({"duration": 2.0, "unit": "hours"}, 7200),
    ],
)
def test_valid_delays_convert_to_seconds(config: dict[str, Any], seconds: int) -> None:
    assert validate_delay(config, PATH) == []
    assert delay_seconds(config) == seconds


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"duration": 86401, "unit": "seconds"},
            [(f"{PATH}.duration", "duration must be at most 86400 seconds")],
        ),
        (
            {"duration": 1441, "unit": "minutes"},
            [(f"{PATH}.duration", "duration must be at most 1440 minutes")],
        ),
        (
            {"duration": 25, "unit": "hours"},
            [(f"{PATH}.duration", "duration must be at most 24 hours")],
        ),
        (
            {"duration": 8, "unit": "days"},
            [(f"{PATH}.duration", "duration must be at most 7 days")],
        ),
    ],
)
def test_delays_above_the_seed_maximum_are_refused(
    config: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert validate_delay(config, PATH) == expected


@pytest.mark.parametrize("duration", [0, -5, True, False, 1.5, "300", None, [5]])
def test_duration_must_be_a_positive_whole_number(duration: Any) -> None:
    assert validate_delay({"duration": duration, "unit": "seconds"}, PATH) == [
        (f"{PATH}.duration", "duration must be a positive whole number")
    ]


def test_unit_is_required() -> None:
    assert validate_delay({"duration": 5}, PATH) == [(f"{PATH}.unit", "unit is required")]


def test_unknown_unit_lists_the_units() -> None:
    assert validate_delay({"duration": 5, "unit": "weeks"}, PATH) == [
        (f"{PATH}.unit", "unknown unit 'weeks'; expected one of seconds, minutes, hours, days")
    ]


def test_duration_is_required() -> None:
    assert validate_delay({"unit": "hours"}, PATH) == [(f"{PATH}.duration", "duration is required")]


def test_unknown_keys_are_refused() -> None:
    assert validate_delay({"duration": 5, "unit": "hours", "jitter": 1}, PATH) == [
        (f"{PATH}.jitter", "unknown key 'jitter'")
    ]


def test_config_must_be_an_object() -> None:
    assert validate_delay([300, "seconds"], PATH) == [
        (PATH, "expected an object with 'duration' and 'unit'")
    ]


def test_delay_seconds_refuses_an_invalid_config() -> None:
    with pytest.raises(ValueError, match="duration must be at most 7 days"):
        delay_seconds({"duration": 8, "unit": "days"})


@pytest.mark.parametrize("unit", [["seconds"], {"u": 1}, 5, None])
def test_a_unit_that_is_not_a_string_is_an_error_not_a_crash(unit) -> None:
    # Found by the schema fuzz: a list as unit raised TypeError (unhashable) -> 500.
    errors = validate_delay({"duration": 5, "unit": unit}, "actions[0].config")
    assert "actions[0].config.unit" in [path for path, _ in errors]
