"""Property tests: hostile data stays data, internals stay hidden, numbers compare exactly."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from automations.engine.conditions import evaluate_conditions
from automations.engine.templates import TemplateError, render_string, render_value

HOSTILE = st.sampled_from(
    [
        '"',
        "'",
        "\\",
        '\\"',
        "{{7*7}}",
        "{{ record.name }}",
        "{% raw %}",
        "{% endraw %}",
        "{% include 'x' %}",
        "}}",
        "{",
        "\r\n",
        "</script><script>alert(1)</script>",
        "\u2028\u2029",
        "\x00",
        "😀 ünïcødé 中文",
        '{"a": 1}',
    ]
)
VALUES = st.one_of(HOSTILE, st.text(), st.lists(HOSTILE).map("".join))

BODY = {
    "text": "{{record.name}}",
    "message": "New deal: {{record.name}}!",
    "nested": {"items": ["{{ record.name }}", "static"]},
    "count": 3,
}


@given(value=VALUES)
def test_hostile_record_values_render_as_data_in_a_json_body(value: str) -> None:
    rendered = render_value(BODY, {"record": {"name": value}})
    assert set(rendered) == set(BODY)
    assert rendered["text"] == value
    assert rendered["message"] == f"New deal: {value}!"
    assert rendered["nested"] == {"items": [value, "static"]}
    assert rendered["count"] == 3
    # And the whole body survives a JSON round trip, as it will on the wire.
    assert json.loads(json.dumps(rendered)) == rendered


@given(value=VALUES)
def test_hostile_values_round_trip_through_a_json_text_template(value: str) -> None:
    rendered = render_string(
        '{"text": {{record.name | json}}, "k": 1}', {"record": {"name": value}}
    )
    assert json.loads(rendered) == {"text": value, "k": 1}


INTERNAL_NAMES = st.sampled_from(
    [
        "__class__",
        "__dict__",
        "__globals__",
        "__init__",
        "__mro__",
        "__subclasses__",
        "__builtins__",
        "__len__",
        "_private",
        "items",
        "keys",
        "values",
        "get",
        "pop",
        "update",
        "upper",
        "format",
        "tzinfo",
        "timestamp",
    ]
)
TEMPLATE_SHAPES = st.sampled_from(
    [
        "{{{{record.{0}}}}}",
        "{{{{record.name.{0}}}}}",
        "{{{{record.{0}.{0}}}}}",
        "{{{{now.{0}}}}}",
        "{{{{record['{0}']}}}}",
        "{{{{ '' .{0} }}}}",
        "{{{{ record.tags.{0} }}}}",
        "{{% for x in record.tags %}}{{{{x.{0}}}}}{{% endfor %}}",
    ]
)
LEAK_MARKERS = ("<class", "<built-in", "<function", "<method", "object at 0x", "mappingproxy")


@given(shape=TEMPLATE_SHAPES, name=INTERNAL_NAMES)
def test_templates_cannot_reach_python_internals(shape: str, name: str) -> None:
    import datetime as dt

    context = {
        "record": {"name": "John", "tags": ["a", "b"]},
        "now": dt.datetime(2024, 1, 17, 10, tzinfo=dt.UTC),
    }
    source = shape.format(name)
    try:
        result = render_value(source, context)
    except TemplateError:
        return  # failing cleanly is fine
    assert result in (None, "")


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": operator.eq,
    "not_equals": operator.ne,
    "greater_than": operator.gt,
    "less_than": operator.lt,
}
# Numbers inside the bounds every number is read with (primitives/numbers.py): at most 15
# significant digits and 15 decimal places, below 10^15. A float made from such a decimal
# repr()s back to it (DBL_DIG), so it stays inside too.
DECIMALS = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(-(10**15 - 1), 10**15 - 1),
    st.integers(0, 15),
)
NUMBERS = st.one_of(st.integers(-(10**15 - 1), 10**15 - 1), DECIMALS, DECIMALS.map(float))


def as_decimal(number: int | float | Decimal) -> Decimal:
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


@given(text_side=DECIMALS, number_side=NUMBERS, op=st.sampled_from(sorted(OPS)))
def test_numeric_strings_compare_like_decimals(
    text_side: Decimal, number_side: int | float | Decimal, op: str
) -> None:
    expected = OPS[op](text_side, as_decimal(number_side))
    for field_types in (None, {"amount": "number"}):
        # The string can be on either side: record value or condition value.
        forward = evaluate_conditions(
            [{"field": "amount", "operator": op, "value": number_side}],
            record={"amount": str(text_side)},
            previous=None,
            field_types=field_types,
        )
        assert forward.passed is expected
        swapped = OPS[op](as_decimal(number_side), text_side)
        backward = evaluate_conditions(
            [{"field": "amount", "operator": op, "value": str(text_side)}],
            record={"amount": number_side},
            previous=None,
            field_types=field_types,
        )
        assert backward.passed is swapped


# Past the bounds: huge numbers in any form, or numbers written with more than 40 characters
# (more precise ones that are shorter are rounded, not refused), as the record's value.
UNBOUNDED = st.one_of(
    st.integers(min_value=10**15),
    st.integers(max_value=-(10**15)),
    st.builds(lambda mantissa, exp: f"{mantissa}e{exp}", st.integers(1, 9), st.integers(15, 10**7)),
    st.builds(lambda digits: "0." + "9" * digits, st.integers(39, 6000)),
    st.builds(lambda digits: "9" * digits, st.integers(16, 6000)),
    st.floats(min_value=1e15, allow_infinity=False),
)


@settings(deadline=200)  # each evaluation must stay cheap whatever the exponent says
@given(actual=UNBOUNDED, value=NUMBERS, op=st.sampled_from(sorted(OPS)))
def test_numbers_past_the_bounds_never_raise_and_never_order(actual: Any, value: Any, op: str):
    for field_types in (None, {"amount": "number"}):
        result = evaluate_conditions(
            [{"field": "amount", "operator": op, "value": value}],
            record={"amount": actual},
            previous=None,
            field_types=field_types,
        )
        # Not a number the service keeps: never greater or less than anything.
        if op in ("greater_than", "less_than"):
            assert result.passed is False
