"""Every render is bounded in output, work, list sizes, memory and numbers (issue 15.2, 15.3).

Each bomb here was found by the adversarial pass; before the limits most of them answered with
tens of megabytes, ran for seconds, or raised MemoryError (figures in docs/RELIABILITY.md).
Each must now fail fast, as a TemplateError that names the config field, in a user's words.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from automations.engine import template_limits as limits
from automations.engine.templates import TemplateError, render_string, render_value

TEN_KB = "x" * 10_000
CONTEXT: dict[str, Any] = {
    "record": {"id": "rec_1", "name": TEN_KB, "big": 1e308, "huge_text": "9" * 5000},
}
# Far above what a bounded render needs (a few MB), far below what the bombs took (0.3-4 GB).
PEAK_BYTES = 40_000_000
SECONDS = 3.0


def bounded(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run ``call`` twice: timed, then with its peak memory traced (tracing slows Python down
    several times, so it would blur the time); both must stay under the bounds."""

    def attempt() -> tuple[Any, BaseException | None]:
        try:
            return call(), None
        except BaseException as err:  # MemoryError included: it is what must not happen
            return None, err

    started = time.monotonic()
    outcome = attempt()
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"took {elapsed:.2f} s"
    tracemalloc.start()
    try:
        attempt()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 1e6:.1f} MB"
    return outcome


def render_field(source: str) -> TemplateError:
    config = {"module": "tasks", "data": {"name": source}}
    _, error = bounded(lambda: render_value(config, CONTEXT, path="actions[0].config"))
    assert isinstance(error, TemplateError), error
    assert str(error).startswith("actions[0].config.data.name: "), str(error)
    return error


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # The single-placeholder case skipped the output limit: 78.9 MB of JSON came back.
        ("{{ (1..10000000) | join: ',' }}", "join: the list would have 10,000,000 items"),
        ("x{{ (1..10000000) | join: ',' }}", "join: the list would have 10,000,000 items"),
        # Built a 100,000,000-item list (MemoryError, or 3.8 GB and 15 s where memory allows).
        ("{{ (1..100000000) | reverse | first }}", "reverse: the list would have 100,000,000"),
        ("{{ (1..10000000) | sort | size }}", "sort: the list would have"),
        ("{{ (1..10000000) | sum }}", "sum: the list would have"),
        ("{{ (1..10000000) | uniq | size }}", "uniq: the list would have"),
        # 10 KB replaced into itself: 100 MB in 0.06 s.
        (
            "{{ record.name | replace: 'x', record.name }}",
            "replace: the result would be 100,010,000",
        ),
        ("{{ record.name | replace: '', record.name }}", "replace: the result would be"),
        ("{{ record.name | split: '' | join: record.name }}", "join: the result would be"),
        (
            "{% assign s = record.name %}{% for i in (1..30) %}{% assign s = s | append: s %}"
            "{% endfor %}{{ s }}",
            "append: the result would be",
        ),
        (
            "{% assign l = record.name | split: ',' %}{% for i in (1..20) %}"
            "{% assign l = l | concat: l %}{% endfor %}{{ l | join: '' }}",
            "concat: the value holds more than 1,000,000",
        ),
        # Re-reading a list 10,000 times took 21 s before the work budget.
        (
            "{% assign x = 'ab' | split: '' %}{% for i in (1..10000) %}"
            "{% assign x = x | concat: x | slice: 0, 5000 %}{% endfor %}{{ x | size }}",
            "too much work",
        ),
        # Loops side by side escaped Liquid's loop limit (it bounds one loop and the loops
        # nested in it): 200 empty loops of 10,000 in 7.6 KB ran 2,000,000 times, 19 s.
        ("{% for i in (1..10000) %}{% endfor %}" * 200, "loops run more than 100,000 times"),
        (  # tablerow counts too (ten full loops, then a ten-cell table)
            "{% for i in (1..10000) %}{% endfor %}" * 10
            + "{% tablerow i in (1..10) %}{% endtablerow %}",
            "loops run more than 100,000 times",
        ),
        # An offset skips its items one by one (islice), before the loop's limit saw a length
        # of 10: about 1.5 s per 10^8 items, hours for 10^15, in a 70-character template.
        (
            "{% for i in (1..999999999999999) offset: 999999999999990 %}{{ i }}{% endfor %}",
            "loop iteration limit reached",
        ),
        (
            "{% for i in (1..999999999999999) reversed offset: 999999999999990 %}{% endfor %}",
            "loop iteration limit reached",
        ),
        (
            "{% tablerow i in (1..999999999999999) offset: 999999999999990 %}{% endtablerow %}",
            "loop iteration limit reached",
        ),
        # Comparisons are no filters, yet walk whole values: 10 loops of 10,000 `contains` on a
        # 10,000-item list took 12 s, and `x in range` walks the range for anything but an int.
        (
            "{% assign l = record.name | split: '' %}"
            + "{% for i in (1..10000) %}{% if l contains 'y' %}{% endif %}{% endfor %}" * 10,
            "too much work",
        ),
        (
            "{% assign l = record.name | split: '' %}"
            + "{% for i in (1..10000) %}{% if l == l %}{% endif %}{% endfor %}" * 10,
            "too much work",
        ),
        ("{% if (1..999999999999999) contains 'x' %}{% endif %}", "too much work"),
        (
            "{% assign l = record.name | split: '' %}"
            + "{% for i in (1..10000) %}{% case l %}{% when l %}{% endcase %}{% endfor %}" * 10,
            "too much work",
        ),
        (  # skipped items count towards the render's loop budget too
            "{% for i in (1..10000) offset: 9999 %}{% endfor %}" * 11,
            "loops run more than 100,000 times",
        ),
    ],
)
def test_resource_bombs_fail_fast_as_a_template_error_naming_the_field(
    source: str, message: str
) -> None:
    error = render_field(source)
    assert message in str(error)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{{ "1e1000000" | plus: 1 }}', "plus: '1e1000000' is not a finite number"),
        ('{{ "inf" | abs }}', "abs: 'inf' is not a finite number"),
        ('{{ "nan" | times: 2 }}', "times: 'nan' is not a finite number"),
        ("{{ 10 | times: record.big | times: 10 }}", "times: the number 1e+308 is out of range"),
        ("{{ record.huge_text | plus: 1 }}", "has more than 40 characters"),
        (
            "{% assign n = 2 %}{% for i in (1..40) %}{% assign n = n | times: n %}{% endfor %}"
            "{{ n }}",
            "times: the number is out of range",
        ),
        ("{{ 999999999999999 | plus: 999999999999999 }}", "plus: the number is out of range"),
        ("{{ 1 | divided_by: 0 }}", "divided_by: can't divide by 0"),
        ("{{ 4.5 | round: record.name }}", "round: the decimal places must be a whole number"),
        ("{{ 4.5 | round: 1000000000 }}", "round: the decimal places must be a whole number"),
        ("{{ now | add_days: record.big }}", "add_days: the number of days"),
        ("{{ '2024-01-01' | add_minutes: '99999999999999999999' }}", "out of range"),
    ],
)
def test_numeric_filters_refuse_huge_and_non_finite_numbers(source: str, message: str) -> None:
    error = render_field(source.replace("now", "'2024-01-01'"))
    assert message in str(error)


def test_numbers_in_range_still_compute() -> None:
    config = {
        "a": "{{ 10 | times: 1.5 }}",
        "b": "{{ '12.5' | plus: 1 }}",
        "c": "{{ 7 | modulo: 3 }}",
    }
    assert render_value(config, {}) == {"a": 15.0, "b": 13.5, "c": 1}


def test_loops_within_the_render_budget_still_run() -> None:
    # Ten loops of the largest list a template may walk, and loops nested to that size.
    side_by_side = "{% for i in (1..10000) %}{% endfor %}" * 10 + "done"
    nested = "{% for i in (1..100) %}{% for j in (1..100) %}{% endfor %}{% endfor %}ok"
    assert render_value({"a": side_by_side}, {}) == {"a": "done"}
    assert render_value({"b": nested}, {}) == {"b": "ok"}
    compared = "{% for i in (1..1000) %}{% if i == 5 or i > 998 %}{{ i }}{% endif %}{% endfor %}"
    assert render_value({"e": compared}, {}) == {"e": "59991000"}
    offsets = "{% for i in (1..100) offset: 50 limit: 3 %}{{ i }}{% endfor %}"
    resumed = "{% for i in (1..9) limit: 2 %}{{ i }}{% endfor %}|"
    resumed += "{% for i in (1..9) offset: continue limit: 2 %}{{ i }}{% endfor %}"
    assert render_value({"c": offsets, "d": resumed}, {}) == {"c": "515253", "d": "12|34"}


def test_one_field_under_the_limit_renders_whole() -> None:
    big = "y" * 900_000
    assert render_value({"body": "{{ v }}", "text": "<{{ v }}>"}, {"v": big[:400_000]}) == {
        "body": big[:400_000],
        "text": f"<{big[:400_000]}>",
    }
    assert render_string("{{ v | append: '!' }}", {"v": big}) == big + "!"


def test_fields_of_one_config_share_one_output_budget() -> None:
    # Each field alone is under the 1,000,000-character limit; together they are not.
    config = {"data": {f"f{i}": "{{ v }}" for i in range(4)}}
    with pytest.raises(TemplateError, match=r"^data\.f3: .*longer than 1,000,000 characters"):
        render_value(config, {"v": "z" * 300_000})


def test_a_fresh_render_gets_a_fresh_budget() -> None:
    context = {"v": "z" * 600_000}
    for _ in range(3):
        assert len(render_value({"a": "{{ v }}"}, context)["a"]) == 600_000


def test_memory_errors_are_template_errors() -> None:
    def explode(value: Any) -> Any:
        raise MemoryError

    from automations.engine.templates import ENVIRONMENT

    original = ENVIRONMENT.filters["upcase"]
    ENVIRONMENT.filters["upcase"] = explode
    try:
        with pytest.raises(TemplateError, match="more memory than a template may use"):
            render_value({"x": "{{ 'a' | upcase }}"}, {})
    finally:
        ENVIRONMENT.filters["upcase"] = original


@pytest.mark.parametrize(
    "source",
    [
        "{{ (1..3) | where: 'x' }}",
        "{{ 5 | map: 'x' }}",
        "{{ 'abc' | concat: (1..2) | where: 'a' }}",
        "{{ now | date: 5 }}",
    ],
)
def test_no_python_in_any_render_error(source: str) -> None:
    try:
        render_value({"x": source}, {"now": "2024-01-01"})
    except TemplateError as err:
        message = str(err)
        for python in ("object", "subscriptable", "positional", "NoneType", "'int'", "__"):
            assert python not in message, message


@pytest.mark.parametrize(
    ("source", "words"),
    [
        # Liquid's own messages named Python's types and its integer conversion limit.
        ("{% if record.list > 1 %}{% endif %}", "'<' and '>' cannot compare a number with a list"),
        ("{% if record.obj < 'a' %}{% endif %}", "'<' and '>' cannot compare an object with text"),
        ("{% if 5 contains record.obj %}{% endif %}", "'contains' cannot compare a number with"),
        ("{% for i in (1..3) limit: 'x' %}{% endfor %}", "expected a whole number, found text"),
        ("{% for i in (1..3) offset: record.list %}{% endfor %}", "found a list"),
        (
            "{% for i in (1..3) limit: record.huge_text %}{% endfor %}",
            "found a number with more than 4,300 digits",
        ),
    ],
)
def test_liquid_messages_speak_of_values_not_python_types(source: str, words: str) -> None:
    context = {"record": {"list": [1, 2], "obj": {"a": 1}, "huge_text": "9" * 5000}}
    with pytest.raises(TemplateError) as caught:
        render_value({"x": source}, context)
    message = str(caught.value)
    assert words in message, message
    for python in ("'int'", "'str'", "'list'", "'dict'", " str", "4300", "conversion"):
        assert python not in message, message


def test_a_logged_copy_is_truncated_and_says_how_much() -> None:
    value = {"a": "k" * 5_000, "b": ["short", "m" * 2_001], "c": 7}
    copy = limits.truncated_copy(value)
    assert copy["a"] == "k" * 2_000 + "… [3,000 more characters]"
    assert copy["b"] == ["short", "m" * 2_000 + "… [1 more characters]"]
    assert copy["c"] == 7
    assert value["a"] == "k" * 5_000  # the original is untouched


def test_a_large_number_is_bounded_only_where_it_is_computed() -> None:
    # A record may hold 10^20; showing it is fine, computing with it is not.
    context = {"big": 10**20}
    assert render_value({"a": "{{ big | default: 1 }}", "b": "{{ big }}"}, context) == {
        "a": 10**20,
        "b": 10**20,
    }
    with pytest.raises(TemplateError, match=r"^c: plus: the number is out of range"):
        render_value({"c": "{{ big | plus: 1 }}"}, context)


def test_a_whole_value_that_is_a_huge_range_is_refused_not_listed() -> None:
    _, error = bounded(lambda: render_value({"a": "{{ (1..1000000000000) }}"}, {}))
    assert isinstance(error, TemplateError)
    assert "the list would have 1,000,000,000,000 items" in str(error)
