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
