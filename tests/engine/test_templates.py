"""Rendering templates: the seed's variables and filters, type preservation and safety."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from automations.engine import templates
from automations.engine.templates import (
    TemplateError,
    build_context,
    format_datetime,
    render_string,
    render_value,
)
from primitives import jsonpolicy
from primitives.jsonpolicy import MAX_DEPTH as JSON_MAX_DEPTH

NOW = dt.datetime(2024, 1, 17, 10, 0, tzinfo=dt.UTC)
RECORD = {
    "id": "rec_abc123",
    "module": "contacts",
    "name": "John Smith",
    "first_name": "John",
    "email": "John.Smith@Example.COM",
    "value": 50000,
    "score": 4.5,
    "vip": True,
    "notes": None,
    "tags": ["a", "b"],
    "address": {"city": "Berlin"},
    "due_date": "2024-01-15",
    "created_at": "2024-01-15T09:30:00Z",
}


@pytest.fixture
def ctx() -> dict[str, Any]:
    return build_context(
        record=RECORD,
        previous={"stage": "lead"},
        user={"id": "usr_1", "email": "owner@acme.example"},
        now=NOW,
        webhook={"body": {"amount": 12}, "headers": {"x-source": "crm"}, "query": {"q": "1"}},
        trigger={"event": "record.updated", "automation_id": "auto_1"},
    )


def render(source: str, ctx: dict[str, Any]) -> Any:
    return render_value(source, ctx)


# --- variables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{record.id}}", "rec_abc123"),
        ("Hi {{record.first_name}}", "Hi John"),
        ("{{previous.stage}}", "lead"),
        ("{{user.id}} {{user.email}}", "usr_1 owner@acme.example"),
        ("{{webhook.body.amount}}/{{webhook.headers.x-source}}/{{webhook.query.q}}", "12/crm/1"),
        ("{{trigger.event}} {{trigger.automation_id}}", "record.updated auto_1"),
        ("{{record.address.city}}", "Berlin"),
    ],
)
def test_context_roots_render(source: str, expected: str, ctx: dict[str, Any]) -> None:
    assert render_string(source, ctx) == expected


def test_now_renders_as_iso_utc_with_z(ctx: dict[str, Any]) -> None:
    assert render_string("{{now}}", ctx) == "2024-01-17T10:00:00Z"


def test_now_drops_microseconds_and_converts_to_utc() -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    now = dt.datetime(2024, 1, 17, 11, 0, 0, 123456, tzinfo=berlin)
    assert render_string("{{now}}", build_context(now=now)) == "2024-01-17T10:00:00Z"


def test_build_context_defaults_now_to_the_current_utc_time() -> None:
    context = build_context()
    assert context["now"].tzinfo is not None
    assert set(context) == {"now"}


def test_undefined_variables_render_empty(ctx: dict[str, Any]) -> None:
    assert render_string("[{{record.nope}}{{nothing.at.all}}]", ctx) == "[]"


def test_format_datetime_uses_z_and_treats_naive_as_utc() -> None:
    assert format_datetime(dt.datetime(2024, 1, 17, 10, 0, 5, 999)) == "2024-01-17T10:00:05Z"
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert format_datetime(dt.datetime(2024, 1, 17, 12, tzinfo=plus_two)) == "2024-01-17T10:00:00Z"


# --- the seed's filters ---------------------------------------------------------------------


def test_uppercase_filter(ctx: dict[str, Any]) -> None:
    assert render("{{record.name | uppercase}}", ctx) == "JOHN SMITH"


def test_lowercase_filter(ctx: dict[str, Any]) -> None:
    assert render("{{record.email | lowercase}}", ctx) == "john.smith@example.com"


def test_add_days_on_now_gives_a_utc_datetime(ctx: dict[str, Any]) -> None:
    assert render("{{now | add_days: 7}}", ctx) == "2024-01-24T10:00:00Z"


def test_add_days_accepts_negative_numbers(ctx: dict[str, Any]) -> None:
    assert render("{{ now | add_days: -3 }}", ctx) == "2024-01-14T10:00:00Z"


def test_add_days_on_a_date_gives_a_date(ctx: dict[str, Any]) -> None:
    assert render("{{record.due_date | add_days: 3}}", ctx) == "2024-01-18"
    assert render_value("{{d | add_days: 1}}", {"d": dt.date(2024, 2, 28)}) == "2024-02-29"


def test_add_days_on_an_iso_string_with_offset_gives_utc(ctx: dict[str, Any]) -> None:
    context = {"d": "2024-01-15T23:30:00-05:00"}
    assert render_value("{{d | add_days: 1}}", context) == "2024-01-17T04:30:00Z"


def test_date_format_with_moment_tokens(ctx: dict[str, Any]) -> None:
    assert render('{{record.created_at | date_format: "MMM D, YYYY"}}', ctx) == "Jan 15, 2024"


def test_date_format_on_a_date_and_a_datetime_object() -> None:
    context = {"d": dt.date(2024, 1, 15), "t": dt.datetime(2024, 1, 15, 13, 5, tzinfo=dt.UTC)}
    assert render_value('{{d | date_format: "MMM D, YYYY"}}', context) == "Jan 15, 2024"
    assert render_value('{{t | date_format: "ddd h:mm A"}}', context) == "Mon 1:05 PM"


def test_date_format_takes_an_optional_timezone(ctx: dict[str, Any]) -> None:
    source = '{{now | date_format: "YYYY-MM-DD HH:mm", "America/New_York"}}'
    assert render(source, ctx) == "2024-01-17 05:00"


def test_date_format_rejects_an_unknown_timezone(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="unknown timezone 'Mars/Base'"):
        render('{{now | date_format: "YYYY", "Mars/Base"}}', ctx)


def test_date_filters_on_empty_values_render_empty_and_let_default_work(
    ctx: dict[str, Any],
) -> None:
    assert render_string("[{{record.notes | add_days: 1}}]", ctx) == "[]"
    assert render("{{record.nope | date_format: 'YYYY' | default: 'n/a'}}", ctx) == "n/a"


def test_add_hours_and_add_minutes(ctx: dict[str, Any]) -> None:
    assert render("{{now | add_hours: 36}}", ctx) == "2024-01-18T22:00:00Z"
    assert render("{{now | add_minutes: -90}}", ctx) == "2024-01-17T08:30:00Z"


def test_add_hours_on_a_date_starts_from_midnight_utc(ctx: dict[str, Any]) -> None:
    assert render("{{record.due_date | add_hours: 2}}", ctx) == "2024-01-15T02:00:00Z"


def test_add_days_amount_may_be_a_numeric_string(ctx: dict[str, Any]) -> None:
    assert render("{{now | add_days: '2'}}", ctx) == "2024-01-19T10:00:00Z"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{record.name | add_days: 1}}",
            "add_days: the input must be an ISO 8601 date or date and time, got 'John Smith'",
        ),
        ("{{webhook.body.amount | add_days: 1}}", "add_days: 12 is not a date or datetime"),
        (
            "{{'0001-01-01T00:00:00+23:00' | add_days: 1}}",
            "add_days: the input is out of range: dates and times must fall between",
        ),
        (
            "{{now | add_days: 'soon'}}",
            "add_days: the number of days must be a whole number, got 'soon'",
        ),
        ("{{now | add_days: 1.5}}", "add_days: the number of days must be a whole number, got 1.5"),
        ("{{now | add_days: 99999999999}}", "add_days: result is out of range"),
    ],
)
def test_date_filter_misuse_fails_with_a_clear_error(
    source: str, message: str, ctx: dict[str, Any]
) -> None:
    with pytest.raises(TemplateError, match=message):
        render(source, ctx)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{record.nope | default: 'x'}}", "x"),
        ("{{record.notes | default: 'none'}}", "none"),
        ("{{record.first_name | default: 'there'}}", "John"),
        ("{{'hello world' | capitalize}}", "Hello world"),
        ("[{{'  x  ' | trim}}]", "[x]"),
        ("[{{'  x  ' | strip}}]", "[x]"),
        ("{{record.name | truncate: 7}}", "John..."),
        ("{{record.score | round}}", 5),
        ("{{3.14159 | round: 2}}", 3.14),
        ("{{now | date: '%Y-%m-%d'}}", "2024-01-17"),
        ("{{record.name | upcase}}", "JOHN SMITH"),
    ],
)
def test_builtin_and_extra_filters(source: str, expected: Any, ctx: dict[str, Any]) -> None:
    assert render(source, ctx) == expected


def test_json_filter_encodes_values(ctx: dict[str, Any]) -> None:
    assert render("{{record.tags | json}}", ctx) == '["a", "b"]'
    assert render("{{record.address | json}}", ctx) == '{"city": "Berlin"}'
    assert render("{{now | json}}", ctx) == '"2024-01-17T10:00:00Z"'
    assert render("{{record.nope | json}}", ctx) == "null"


def test_json_filter_makes_a_string_safe_inside_a_json_text() -> None:
    value = 'say "hi" \\ {{7*7}}\n'
    rendered = render_string('{"text": {{v | json}}}', {"v": value})
    assert json.loads(rendered) == {"text": value}


# --- render_value and type preservation -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{record.value}}", 50000),
        ("{{ record.value }}", 50000),
        ("{{-record.value-}}", 50000),
        ("{{record.score}}", 4.5),
        ("{{record.vip}}", True),
        ("{{record.notes}}", None),
        ("{{record.nope}}", None),
        ("{{record.tags}}", ["a", "b"]),
        ("{{record.address}}", {"city": "Berlin"}),
        ("{{now}}", "2024-01-17T10:00:00Z"),
        ("{{record.value | plus: 1}}", 50001),
        ("{{record.id}}", "rec_abc123"),
    ],
)
def test_a_lone_placeholder_keeps_its_json_type(
    source: str, expected: Any, ctx: dict[str, Any]
) -> None:
    result = render_value(source, ctx)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${{record.value}}", "$50000"),
        (" {{record.value}}", " 50000"),
        ("{{record.value}}{{record.value}}", "5000050000"),
        ("{{record.vip}}!", "true!"),
        ("{% if record.vip %}yes{% endif %}", "yes"),
        ("at {{now}}", "at 2024-01-17T10:00:00Z"),
        ("{{record.tags | join: ', '}}", "a, b"),
    ],
)
def test_anything_else_renders_to_a_string(source: str, expected: str, ctx: dict[str, Any]) -> None:
    assert render_value(source, ctx) == expected


def test_decimal_values_become_json_numbers() -> None:
    context = {"a": Decimal("12"), "b": Decimal("12.50")}
    assert render_value(["{{a}}", "{{b}}"], context) == [12, 12.5]


def test_render_value_walks_dicts_and_lists_but_not_keys(ctx: dict[str, Any]) -> None:
    config = {
        "to": "{{record.email}}",
        "{{record.id}}": "key stays",
        "data": {"count": "{{record.value}}", "list": ["{{record.first_name}}", 7, None, True]},
    }
    assert render_value(config, ctx) == {
        "to": "John.Smith@Example.COM",
        "{{record.id}}": "key stays",
        "data": {"count": 50000, "list": ["John", 7, None, True]},
    }


def test_render_value_leaves_plain_strings_alone(ctx: dict[str, Any]) -> None:
    assert render_value("no markup { here }", ctx) == "no markup { here }"


def test_seed_update_record_example_renders(ctx: dict[str, Any]) -> None:
    updates = {"status": "processed", "processed_at": "{{now}}"}
    assert render_value(updates, ctx) == {
        "status": "processed",
        "processed_at": "2024-01-17T10:00:00Z",
    }


def test_render_string_always_returns_text(ctx: dict[str, Any]) -> None:
    assert render_string("{{record.value}}", ctx) == "50000"
    assert render_string("{{record.vip}}", ctx) == "true"


# --- errors and safety ----------------------------------------------------------------------


def test_syntax_errors_raise_template_error() -> None:
    with pytest.raises(TemplateError, match="template syntax error"):
        render_value("{{ record.name ", {})


def test_template_error_is_a_value_error() -> None:
    assert issubclass(TemplateError, ValueError)


def test_unknown_filters_fail_at_render_time(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="unknown filter 'shout'"):
        render_string("{{record.name | shout}}", ctx)


@pytest.mark.parametrize(
    "source",
    [
        "{{record.__class__}}",
        "{{record.__class__.__mro__}}",
        "{{record.items}}",
        "{{record.keys}}",
        "{{record.name.upper}}",
        "{{record.name.__class__}}",
        "{{record['__dict__']}}",
        "{{now.__class__}}",
        "{{now.tzinfo}}",
        "{{record._private}}",
    ],
)
def test_internals_render_empty(source: str, ctx: dict[str, Any]) -> None:
    assert render_value(source, ctx) is None


def test_string_literal_attribute_access_fails_cleanly(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        render_value("{{ '' .__class__.__mro__ }}", ctx)


def test_private_keys_in_the_data_are_not_reachable() -> None:
    context = {"record": {"_secret": "s3cr3t", "nested": {"__dict__": "x", "ok": 1}}}
    assert render_string("{{record._secret}}{{record.nested.__dict__}}", context) == ""
    assert render_string("{{record.nested.ok}}", context) == "1"


def test_objects_in_the_context_are_reduced_to_strings() -> None:
    class Model:
        secret = "s3cr3t"

        def __str__(self) -> str:
            return "Model #1"

    context = {"record": {"obj": Model()}}
    assert render_value("{{record.obj}}", context) == "Model #1"
    assert render_value("{{record.obj.secret}}", context) is None


def test_partials_are_not_available(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="unexpected tag 'include'"):
        render_string("{% include 'secrets' %}", ctx)
    with pytest.raises(TemplateError, match="unexpected tag 'render'"):
        render_string("{% render 'secrets' %}", ctx)


def test_runaway_loops_are_stopped(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="loop iteration limit"):
        render_string("{% for i in (1..1000000) %}{{i}}{% endfor %}", ctx)


def test_parsed_templates_are_cached(ctx: dict[str, Any]) -> None:
    source = "{{record.name}} cached-template-probe"
    templates._compile.cache_clear()
    render_string(source, ctx)
    render_string(source, ctx)
    info = templates._compile.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert info.maxsize is not None


def test_carriage_returns_in_data_survive_rendering() -> None:
    context = {"v": "a\r\nb\rc"}
    assert render_string("[{{v}}]", context) == "[a\r\nb\rc]"
    assert render_string("{% capture c %}{{v}}{% endcapture %}{{c}}", context) == "a\r\nb\rc"


def test_huge_output_is_stopped(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="output is longer than 1,000,000 characters"):
        render_string("{% for i in (1..9000) %}{{v}}{% endfor %}", {"v": "x" * 200})


def test_a_webhook_body_as_deep_as_the_json_policy_allows_still_renders() -> None:
    # The inbound entrance takes bodies up to the policy's depth; the template context refused
    # anything past 32 levels, so such a run failed every action, even one with no template.
    depth = JSON_MAX_DEPTH  # the deepest body the policy accepts
    body_text = '{"a":' * depth + "1" + "}" * depth
    body = jsonpolicy.loads(body_text)  # what the entrance accepts
    context = build_context(webhook={"body": body, "headers": {}, "query": {}})
    path = ".a" * depth
    config = {"title": "no template", "deep": f"{{{{ webhook.body{path} }}}}"}
    assert templates.render_value(config, context) == {"title": "no template", "deep": 1}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Liquid's text filters wrote str(None): "John None", "a,None", "Noneohn".
        ("{{ record.first | append: ' ' | append: record.last }}", "John "),
        ("{{ record.first | prepend: record.last }}", "John"),
        ("{{ record.first | replace: 'J', record.last }}", "ohn"),
        ("{{ record.tags | join: ',' }}", "a,,3"),
        ("{{ record.tags | join: record.last }}", "a3"),
    ],
)
def test_a_field_with_no_value_is_empty_text_in_text_filters(source: str, expected: str) -> None:
    context = {"record": {"first": "John", "last": None, "tags": ["a", None, 3]}}
    assert render_value({"x": source}, context) == {"x": expected}


@pytest.mark.parametrize(
    ("moment", "zone"),
    [("9999-12-31T23:00:00Z", "Pacific/Kiritimati"), ("0001-01-01T00:00:00Z", "America/New_York")],
)
def test_date_format_past_the_last_or_first_year_in_a_timezone_says_so(moment, zone) -> None:
    # Was "date_format cannot be applied to text": the input is fine, the timezone moves it
    # into year 10000 (or year 0).
    source = f"{{{{ '{moment}' | date_format: 'YYYY', '{zone}' }}}}"
    with pytest.raises(TemplateError, match=f"out of range in timezone '{zone}'"):
        render_value({"x": source}, {})
