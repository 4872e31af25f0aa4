"""Save-time checks of template strings: variables, record fields, filters, syntax."""

from __future__ import annotations

from typing import Any

import pytest

from automations.engine.templates import validate_template_value
from automations.trigger_types import template_roots

UPDATE_ROOTS = {"record", "previous", "user", "now", "trigger"}
CREATE_ROOTS = {"record", "user", "now", "trigger"}
FIELDS = {"name", "email", "stage", "owner_id", "value"}


def check(
    value: Any,
    *,
    roots: set[str] | frozenset[str] = UPDATE_ROOTS,
    fields: set[str] | None = FIELDS,
    path: str = "actions[0].config",
) -> list[tuple[str, str]]:
    return validate_template_value(value, allowed_roots=roots, record_fields=fields, path=path)


def test_seed_templates_are_valid() -> None:
    config = {
        "to": "{{record.email}}",
        "message": "{{record.name}} - ${{record.value}}",
        "link": "/deals/{{record.id}}",
        "due_date": "{{now | add_days: 3}}",
        "title": "{{record.name | uppercase}} {{record.created_at | date_format: 'MMM D, YYYY'}}",
        "by": "{{user.id}} {{user.email}}",
    }
    assert check(config) == []


def test_previous_is_refused_when_the_trigger_has_no_previous_values() -> None:
    assert check({"text": "was {{previous.stage}}"}, roots=CREATE_ROOTS) == [
        (
            "actions[0].config.text",
            "unknown variable 'previous.stage': previous values exist only for update triggers",
        )
    ]


def test_unknown_root_is_refused() -> None:
    assert check("{{foo.bar}}", path="actions[1].config.subject") == [
        ("actions[1].config.subject", "unknown variable 'foo.bar'")
    ]


def test_unknown_record_field_is_refused() -> None:
    assert check("{{record.nmae}}") == [
        ("actions[0].config", "unknown variable 'record.nmae': no field 'nmae' in this module")
    ]


def test_previous_fields_are_checked_too() -> None:
    assert check("{{previous.nope}}") == [
        ("actions[0].config", "unknown variable 'previous.nope': no field 'nope' in this module")
    ]


def test_record_system_fields_are_always_known() -> None:
    assert (
        check("{{record.id}} {{record.module}} {{record.created_at}} {{record.updated_at}}") == []
    )


def test_record_fields_are_not_checked_when_unknown() -> None:
    assert check("{{record.anything}}", fields=None) == []


def test_unknown_filter_is_refused() -> None:
    assert check({"body": {"text": "{{record.name | shout}}"}}) == [
        ("actions[0].config.body.text", "unknown filter 'shout'")
    ]


@pytest.mark.parametrize(
    "filter_call",
    [
        "uppercase",
        "lowercase",
        "add_days: 1",
        "add_hours: 1",
        "add_minutes: 1",
        "date_format: 'YYYY'",
        "default: 'x'",
        "capitalize",
        "trim",
        "strip",
        "truncate: 5",
        "date: '%Y'",
        "round",
        "json",
        "upcase",
    ],
)
def test_documented_filters_are_known(filter_call: str) -> None:
    assert check(f"{{{{record.name | {filter_call}}}}}") == []


def test_syntax_error_is_reported_with_the_path() -> None:
    [(path, message)] = check({"body": ["ok", "{{ record.name "]})
    assert path == "actions[0].config.body[1]"
    assert message.startswith("template syntax error: ")


def test_private_names_are_refused() -> None:
    assert check("{{record.__class__}}") == [
        ("actions[0].config", "variable 'record.__class__' uses a private name")
    ]


def test_loop_and_assign_locals_are_not_global_variables() -> None:
    source = "{% assign n = record.name %}{{n}}{% for t in record.stage %}{{t}}{% endfor %}"
    assert check(source) == []


def test_variables_inside_tags_and_filter_arguments_are_checked() -> None:
    source = "{% if record.bogus %}x{% endif %}{{ record.name | default: foo.bar }}"
    assert [message for _, message in check(source)] == [
        "unknown variable 'record.bogus': no field 'bogus' in this module",
        "unknown variable 'foo.bar'",
    ]


def test_each_problem_is_reported_once() -> None:
    assert len(check("{{foo}} {{foo}}")) == 1


def test_non_template_values_are_ignored() -> None:
    assert check({"n": 5, "b": True, "s": "plain text", "none": None}) == []


def test_keys_are_appended_to_the_path() -> None:
    errors = check({"updates": {"status": "{{nope}}"}, "list": [{"x": "{{nope2}}"}]})
    assert [path for path, _ in errors] == [
        "actions[0].config.updates.status",
        "actions[0].config.list[0].x",
    ]


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("record.created", {"record", "user", "now", "trigger"}),
        ("record.updated", {"record", "previous", "user", "now", "trigger"}),
        ("field.changed", {"record", "previous", "user", "now", "trigger"}),
        ("record.deleted", {"record", "user", "now", "trigger"}),
        ("manual", {"record", "user", "now", "trigger"}),
        ("schedule", {"now", "trigger"}),
        ("webhook", {"webhook", "now", "trigger"}),
    ],
)
def test_template_roots_for_each_trigger(trigger: str, expected: set[str]) -> None:
    # The one place that says which variables a trigger gives (save-time validation and the
    # builder's variable picker both use it).
    assert template_roots(trigger) == expected


# -- Filter arguments (issue 16.2): count and kind of every literal argument, at save time --


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{ now | add_days }}",
            "add_days needs an argument (add_days: <number of days>), got none",
        ),
        ("{{ now | add_hours }}", "add_hours needs an argument (add_hours: <number of hours>)"),
        (
            "{{ now | date_format }}",
            "date_format needs an argument (date_format: <format>, [<timezone>]), got none",
        ),
        (
            '{{ now | add_days: "abc" }}',
            "add_days: the number of days must be a whole number, got 'abc'",
        ),
        ("{{ now | add_minutes: 1.5 }}", "add_minutes: the number of minutes must be a whole"),
        (
            "{{ now | add_days: true }}",
            "add_days: the number of days must be a whole number, got true",
        ),
        ("{{ record.name | uppercase: 1, 2 }}", "uppercase takes no arguments, got 2"),
        ("{{ record.name | lowercase: 'x' }}", "lowercase takes no arguments, got 1"),
        ("{{ record.name | trim: 'x' }}", "trim takes no arguments, got 1"),
        ("{{ now | date_format: 5 }}", "date_format: the format must be text, got 5"),
        (
            "{{ now | date_format: 'D', 'Mars/Base' }}",
            "date_format: unknown timezone 'Mars/Base'",
        ),
        ("{{ now | date_format: 'D', 'UTC', 3 }}", "date_format takes at most 2 arguments"),
        ("{{ record.value | plus: 'abc' }}", "plus: the number must be a number, got 'abc'"),
        ("{{ record.value | times }}", "times needs an argument (times: <number>), got none"),
        ("{{ record.value | divided_by: nil }}", "divided_by: the number is empty"),
        ("{{ record.value | plus: 1e400 }}", "unknown variable '1e400'"),
        (
            "{{ record.value | round: 100 }}",
            "round: the decimal places must be a whole number from 0",
        ),
        ("{{ record.value | round: 'two' }}", "round: the decimal places must be a whole number"),
        (
            "{{ record.value | plus: 9999999999999999 }}",
            "plus: the number 9999999999999999 is out of range",
        ),
        ("{{ record.name | truncate: 'ten' }}", "truncate: the length must be a whole number"),
        ("{{ record.name | split }}", "split needs an argument (split: <separator>)"),
        ("{{ record.name | replace }}", "replace needs an argument"),
        ("{{ record.name | replace_last: 'a' }}", "replace_last needs 2 arguments"),
        ("{{ record.name | concat: 'x' }}", "concat: the list to add must be a list, got 'x'"),
        ("{{ record.name | default: 'x', allow_false: 1 }}", "default: the allow_false must be"),
        ("{{ record.name | default: 'x', colour: true }}", "default has no option 'colour'"),
        ("{{ record.name | upcase: colour: 1 }}", "upcase has no option 'colour'"),
        (
            "{% assign d = now | add_days %}{{ d }}",
            "add_days needs an argument (add_days: <number of days>), got none",
        ),
        (
            "{% for i in (1..3) %}{{ i | plus }}{% endfor %}",
            "plus needs an argument (plus: <number>), got none",
        ),
        ("{% if true %}{{ now | date }}{% endif %}", "date needs an argument (date: <format>)"),
    ],
)
def test_filter_arguments_are_checked_at_save_time(source: str, message: str) -> None:
    problems = check({"data": {"name": source}})
    assert [path for path, _ in problems] == ["actions[0].config.data.name"], problems
    assert any(message in text for _, text in problems), problems
    for _, text in problems:  # no Python in any message
        for python in ("positional", "_add_days", "upcase()", "NoneType", "object"):
            assert python not in text, text


@pytest.mark.parametrize(
    "source",
    [
        "{{ now | add_days: 7 }}",
        "{{ now | add_days: '2' }}",
        "{{ now | add_days: -1.0 }}",
        "{{ now | add_hours: record.value }}",
        "{{ record.created_at | date_format: 'MMM D, YYYY' }}",
        "{{ now | date_format: 'HH:mm', 'Europe/Paris' }}",
        "{{ now | date_format: record.name, record.stage }}",
        "{{ record.value | plus: 1 | times: 2.5 | divided_by: '4' | round: 2 }}",
        "{{ record.value | round }}",
        "{{ record.name | default: 'there', allow_false: true }}",
        "{{ record.name | default }}",
        "{{ record.name | truncate: 20, '…' | replace: 'a', 'b' | split: ',' | join: ', ' }}",
        "{{ record.name | slice: 0, 3 }}",
        "{{ (1..3) | concat: (4..5) | sort | uniq | map: 'x' | compact | size }}",
        "{{ record.name | json }}",
    ],
)
def test_correct_filter_calls_still_save(source: str) -> None:
    assert check({"data": {"name": source}}) == []


def test_a_variable_argument_of_the_wrong_kind_is_a_clear_error_at_render() -> None:
    from automations.engine.templates import TemplateError, render_value

    # Saved fine: the argument is a variable...
    assert check({"due": "{{ now | add_days: record.name }}"}) == []
    # ...whose value at render is not a number of days.
    with pytest.raises(TemplateError) as caught:
        render_value(
            {"due": "{{ now | add_days: record.name }}"},
            {"now": "2024-01-01", "record": {"name": "soon"}},
            path="actions[0].config",
        )
    assert str(caught.value).startswith(
        "actions[0].config.due: add_days: the number of days must be a whole number, got 'soon'"
    )
