"""Hostile JSON: one list of payloads for every entrance (the API's operations, the web forms,
the admin, the inbound webhook endpoint), so a new payload is tried everywhere at once.

Each payload is JSON text to splice where a value goes (`body_with`), and, where a person could
type it into a form's text input, that text (`typed`).

`refused` payloads break the JSON policy (primitives/jsonpolicy.py): every entrance must answer
them with a clear 400 / form error and store nothing. The others are valid JSON whose values are
extreme (huge numeric strings, dates at the ends of the calendar): they may be accepted or
refused by the field's rules, but never with a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import ApiKey
from automations.models import Automation, AutomationVersion, EmailTemplate, InboundDelivery, Run
from records.models import Field, Module, Record

# Where a payload goes in a body: replaced textually, so the payload need not be valid Python.
HOLE = "@HOLE@"


@dataclass(frozen=True)
class Payload:
    name: str
    json: str  # JSON text of a value
    refused: bool  # the JSON policy refuses it
    typed: str | None = None  # what a person would type in a text input (None: cannot be)

    def __str__(self) -> str:  # pytest ids
        return self.name


PAYLOADS = [
    Payload("nested-10000", "[" * 10_000 + "]" * 10_000, True, "[" * 10_000 + "]" * 10_000),
    Payload("objects-1000", '{"a":' * 1000 + "1" + "}" * 1000, True),
    Payload("nested-500", "[" * 500 + "]" * 500, True),  # the poison call_webhook body
    Payload("nested-65", "[" * 65 + "]" * 65, True),  # one past the bound
    Payload(
        "groups-400", '{"all":[' * 400 + '{"field":"name","operator":"is_empty"}' + "]}" * 400, True
    ),
    Payload("nan", "NaN", True, "NaN"),
    Payload("infinity", "Infinity", True, "Infinity"),
    Payload("minus-infinity", "-Infinity", True, "-Infinity"),
    Payload("overflow", "1e400", True, "1e400"),
    Payload("minus-overflow", "-1e400", True, "-1e400"),
    Payload("digits-5000", "9" * 5000, True, "9" * 5000),
    Payload("nul", '"a\\u0000b"', True, "a\x00b"),
    Payload("surrogate", '"a\\ud800b"', True),
    Payload("nul-key", '{"k\\u0000": 1}', True),
    Payload("surrogate-key", '{"\\udfff": 1}', True),
    # The issue's own value: it cost 23.5-91 s of CPU per request before its 500 (Decimal -> int
    # is quadratic); the bounded number reader refuses it from its written digits.
    Payload("numeric-string", '"1e1000000"', False, "1e1000000"),
    Payload("year-9999", '"9999-12-31T23:59:59-23:00"', False, "9999-12-31T23:59:59-23:00"),
    Payload("year-1", '"0001-01-01T00:00:00+23:00"', False, "0001-01-01T00:00:00+23:00"),
]
REFUSED = [p for p in PAYLOADS if p.refused]


def body_with(template: str, payload: Payload) -> bytes:
    return template.replace(HOLE, payload.json).encode()


def stored_state() -> tuple:
    """Everything a refused request must leave as it was: rows and their versions."""
    return (
        tuple(
            model.objects.count()
            for model in (
                Automation,
                AutomationVersion,
                Run,
                InboundDelivery,
                Record,
                Module,
                Field,
                EmailTemplate,
                ApiKey,
            )
        ),
        tuple(Automation.objects.order_by("id").values_list("id", "version", "updated_at")),
        tuple(Record.objects.order_by("id").values_list("id", "updated_at")),
        tuple(EmailTemplate.objects.order_by("id").values_list("id", "subject", "body")),
    )


# An automation whose condition value and call_webhook body are the payload (the seed's shape).
AUTOMATION = (
    '{"name": "h", "trigger": {"type": "record.updated", "module": "deals"},'
    ' "conditions": [{"field": "value", "operator": "greater_than", "value": @HOLE@}],'
    ' "actions": [{"type": "call_webhook",'
    ' "config": {"url": "https://hooks.example.com/h", "body": @HOLE@}}]}'
)
# The same with the payload in a date condition (extreme dates).
DATE_AUTOMATION = (
    '{"name": "h", "trigger": {"type": "record.updated", "module": "deals"},'
    ' "conditions": [{"field": "close_date", "operator": "greater_than", "value": @HOLE@}],'
    ' "actions": [{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}]}'
)
# As a condition group: {"all": [...]} payloads are whole condition trees.
GROUPED_AUTOMATION = (
    '{"name": "h", "trigger": {"type": "record.updated", "module": "deals"},'
    ' "conditions": @HOLE@,'
    ' "actions": [{"type": "delay", "config": {"duration": 1, "unit": "seconds"}}]}'
)
