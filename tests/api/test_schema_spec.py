"""/v1/schema itself: valid OpenAPI 3.0 (openapi-spec-validator), and nullable component
fields written so that a strict 3.0 reading accepts null."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate as validate_spec

from config.api.openapi_hooks import NULL_ONLY, nullable_refs
from tests.api.openapi_contract import Contract, load_schema


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return load_schema()


def test_the_schema_is_valid_openapi(schema):
    assert schema["openapi"].startswith("3.0.")
    validate_spec(schema)  # raises with the first problem


def test_nullable_component_fields_are_written_so_strict_3_0_accepts_null(schema):
    # drf-spectacular's {"allOf": [$ref], "nullable": true} refuses null under 3.0.3.
    contract = Contract(schema)
    reason = schema["components"]["schemas"]["AutomationSchema"]["properties"]["disabled_reason"]
    assert contract.errors(reason, None) == []
    assert contract.errors(reason, {"code": "automation_disabled", "message": "m"}) != []
    assert contract.errors(reason, "off") != []
    rewritten = nullable_refs(
        {"x": {"allOf": [{"$ref": "#/r"}], "nullable": True, "description": "d"}}
    )
    assert rewritten == {"x": {"oneOf": [{"$ref": "#/r"}, NULL_ONLY], "description": "d"}}


# The only places where a response holds any JSON by design; everything else is typed.
FREE_FORM = {
    "ActionSchema.config": "an action's config; its keys depend on the action type",
    "ActionPreviewSchema.config": "the same config, rendered",
    "Condition.value": "compared with a field of any type",
    "ConditionEvaluatedSchema.value": "as the condition's value",
    "ConditionEvaluatedSchema.actual_value": "the field's value, of any type",
    "ConditionEvaluatedSchema.previous_value": "the value an update replaced",
    "ErrorSchema.details": "per error code: paths and reasons, conditions, automations ...",
    "TriggerDataSchema.previous": "the record's replaced values, by field key",
    "WebhookEventSchema.body": "the sender's JSON or form body",
    "WebhookEventSchema.query": "by name: a value, or a list of values for a repeated name",
}


def _untyped(schema: dict[str, Any]) -> list[str]:
    """Where a response schema says nothing of a value's type (reachable from any operation's
    responses), as Component.property paths."""
    components = schema["components"]["schemas"]
    found: set[str] = set()
    visited: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in visited:
                visited.add(name)
                walk(components[name], name)
            return
        if "enum" in node:
            return  # the values are listed
        combined = [s for key in ("oneOf", "anyOf", "allOf") for s in node.get(key, [])]
        if not combined and "type" not in node:
            found.add(where)  # any JSON value
        for member in combined:
            walk(member, where)
        for key, value in node.get("properties", {}).items():
            walk(value, f"{where}.{key}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")
        values = node.get("additionalProperties")
        if node.get("type") == "object" and not node.get("properties"):
            if isinstance(values, dict) and values:
                walk(values, f"{where}{{}}")  # a map: its values' type is what counts
            else:
                found.add(where)  # an object of anything

    for item in schema["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    walk(media["schema"], f"{operation['operationId']} {status}")
    return sorted(found)


def test_every_response_value_is_typed_except_the_free_form_ones(schema):
    untyped = _untyped(schema)
    assert [where for where in untyped if where not in FREE_FORM] == []
    # And the list stays true: each free-form place still exists in the schema.
    assert sorted(set(FREE_FORM) - set(untyped)) == []


def test_the_schema_builds_without_a_warning(tmp_path):
    # drf-spectacular warns of what it had to guess (a type, an enum's name); none may be left.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml"))
