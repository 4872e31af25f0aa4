"""The builder's view of a definition: what the templates render and builder.js reads.

A definition here is whatever the user last submitted, valid or not, so every reader is
defensive: an odd shape renders as empty inputs plus the server's error at its path, never
as a 500. builder.js serialises the page back into the same JSON the API takes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.utils import timezone as dj_timezone

from accounts.models import Workspace
from automations.actions import ACTIONS
from automations.definition import DEFAULT_ERROR_HANDLING, DEFINITION_PARTS
from automations.engine.operators import (
    NO_VALUE_OPERATORS,
    STRING_OPERATORS,
    offered_operators,
    operator_table,
)
from automations.engine.schedule import describe_cron, next_runs, validate_cron
from automations.models import Automation
from automations.selectors import email_templates_for
from automations.trigger_types import (
    FIELD_CHANGED,
    MANUAL,
    MODULE_TRIGGERS,
    PREVIOUS_TRIGGERS,
    RECORD_CREATED,
    RECORD_DELETED,
    RECORD_UPDATED,
    SCHEDULE,
    TRIGGER_TYPES,
    WEBHOOK,
    template_roots,
)
from automations.web.record_forms import member_choices
from records.models import Module
from records.selectors import module_fields, modules_for

TRIGGER_LABELS = {
    RECORD_CREATED: "A record is created",
    RECORD_UPDATED: "A record is updated",
    RECORD_DELETED: "A record is deleted",
    FIELD_CHANGED: "A field changes",
    SCHEDULE: "On a schedule",
    WEBHOOK: "A webhook is called",
    MANUAL: "Someone clicks a button on a record",
}
OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "changed": "changed",
    "changed_to": "changed to",
    "changed_from": "changed from",
}
# Dates read better as before/after.
DATE_OPERATOR_LABELS = {"greater_than": "is after", "less_than": "is before"}
SYSTEM_FIELDS = [
    {"key": "id", "label": "ID", "type": "reference", "options": []},
    {"key": "created_at", "label": "Created at", "type": "datetime", "options": []},
    {"key": "updated_at", "label": "Updated at", "type": "datetime", "options": []},
]
CRON_PRESETS = [
    ("0 9 * * *", "Daily at 9 AM"),
    ("0 9 * * 1-5", "Weekdays at 9 AM"),
    ("0 0 1 * *", "First of each month"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 * * * *", "Every hour"),
]
FILTERS = [
    ("", "no filter"),
    (" | uppercase", "uppercase"),
    (" | lowercase", "lowercase"),
    (" | trim", "trim spaces"),
    (" | add_days: 7", "add 7 days"),
    (' | date_format: "MMM D, YYYY"', "format date (Jan 15, 2024)"),
    (' | default: "—"', "default when empty"),
    (" | json", "as JSON"),
]
COMMON_TIMEZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
]
CONFIG_PART_KEYS = (*DEFINITION_PARTS, "timezone")


def operators_for(field_type: str | None, *, has_previous: bool) -> list[str]:
    """Operators the builder offers for a field of this type (engine.operators' rules)."""
    return offered_operators(field_type, has_previous=has_previous)


def operator_label(op: str, field_type: str | None) -> str:
    if field_type in ("date", "datetime") and op in DATE_OPERATOR_LABELS:
        return DATE_OPERATOR_LABELS[op]
    return OPERATOR_LABELS.get(op, op)


def input_value(value: Any) -> str:
    """A JSON value as an input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_dicts(module: Module) -> list[dict[str, Any]]:
    return [
        {
            "key": f.key,
            "label": f.label,
            "type": f.type,
            "options": list(f.options or []),
            "required": f.required,
            "reference_module": f.reference_module,
        }
        for f in module_fields(module)
    ]


# ---------------------------------------------------------------------------------------------
# The schema builder.js works from (also the lookup the templates render with)


def builder_schema(workspace: Workspace) -> dict[str, Any]:
    modules = list(modules_for(workspace))
    return {
        "modules": [{"slug": m.slug, "name": m.name, "fields": field_dicts(m)} for m in modules],
        "system_fields": SYSTEM_FIELDS,
        # The engine's rules per operator, with the labels this page shows them by.
        "operators": [
            {
                **rule,
                "label": OPERATOR_LABELS[rule["value"]],
                "date_label": operator_label(rule["value"], "date"),
            }
            for rule in operator_table()
        ],
        "triggers": [
            {
                "value": t,
                "label": TRIGGER_LABELS[t],
                "module": t in MODULE_TRIGGERS,
                "previous": t in PREVIOUS_TRIGGERS,
                "roots": sorted(template_roots(t)),
            }
            for t in TRIGGER_TYPES
        ],
        "members": [{"id": i, "label": label} for i, label in member_choices(workspace)],
        "email_templates": [t.name for t in email_templates_for(workspace)],
        "filters": [{"value": v, "label": label} for v, label in FILTERS],
        "webhook_base": f"{settings.PUBLIC_BASE_URL}/v1/webhooks/",
    }


# ---------------------------------------------------------------------------------------------
# Conditions


@dataclass
class ConditionLeaf:
    path: str
    uid: str
    field: str
    operator: str
    value: str
    field_type: str | None
    operators: list[tuple[str, str]]
    widget: dict[str, Any]
    kind: str = "leaf"


@dataclass
class ConditionGroup:
    path: str
    uid: str
    mode: str  # "all" | "any"
    items: list[ConditionLeaf | ConditionGroup] = field(default_factory=list)
    depth: int = 0
    kind: str = "group"


def _uid(path: str) -> str:
    return "b-" + "".join(c if c.isalnum() else "-" for c in path).strip("-")


def value_widget(
    field_type: str | None,
    options: list[str],
    operator: str,
    value: Any,
    members: list[tuple[str, str]],
) -> dict[str, Any]:
    """Which input fits a condition's value; builder.js's valueWidget() mirrors this."""
    text = input_value(value)
    hidden = operator in NO_VALUE_OPERATORS
    choices: list[dict[str, str]] | None = None
    kind = "text"
    if operator in STRING_OPERATORS:
        kind = "text"
    elif field_type == "select":
        choices = [{"value": o, "label": o} for o in options]
    elif field_type == "boolean":
        choices = [{"value": "true", "label": "Yes"}, {"value": "false", "label": "No"}]
    elif field_type == "user":
        choices = [{"value": i, "label": label} for i, label in members]
    elif field_type == "number":
        kind = "number"
    elif field_type == "date":
        kind, text = "date", text[:10]
    elif field_type == "datetime":
        kind, text = "datetime-local", text.removesuffix("Z")[:19]
    if choices is not None:
        kind = "select"
        if text and text not in {c["value"] for c in choices}:
            choices.append({"value": text, "label": text})  # keep an odd value visible
    return {"input": kind, "value": text, "hidden": hidden, "choices": choices or []}


class _ConditionReader:
    def __init__(self, fields: list[dict], has_previous: bool, members) -> None:
        self.types = {f["key"]: f for f in [*fields, *SYSTEM_FIELDS]}
        self.has_previous = has_previous
        self.members = members

    def leaf(self, node: Mapping[str, Any], path: str) -> ConditionLeaf:
        name = given if isinstance(given := node.get("field"), str) else ""
        operator = op if isinstance(op := node.get("operator"), str) else "equals"
        spec = self.types.get(name, {})
        field_type = spec.get("type")
        ops = operators_for(field_type, has_previous=self.has_previous)
        if operator not in ops:
            ops.append(operator)  # keep what was submitted visible, with its error beside it
        return ConditionLeaf(
            path=path,
            uid=_uid(path),
            field=name,
            operator=operator,
            value=input_value(node.get("value")),
            field_type=field_type,
            operators=[(op, operator_label(op, field_type)) for op in ops],
            widget=value_widget(
                field_type, spec.get("options", []), operator, node.get("value"), self.members
            ),
        )

    def group(self, items: Any, mode: str, path: str, depth: int, list_path: str) -> ConditionGroup:
        group = ConditionGroup(path=path, uid=_uid(path or "conditions"), mode=mode, depth=depth)
        for index, item in enumerate(items if isinstance(items, list) else []):
            item_path = f"{list_path}[{index}]"
            if isinstance(item, Mapping) and ("all" in item or "any" in item):
                key = "all" if "all" in item else "any"
                group.items.append(
                    self.group(item[key], key, item_path, depth + 1, f"{item_path}.{key}")
                )
            elif isinstance(item, Mapping):
                group.items.append(self.leaf(item, item_path))
        return group


def conditions_state(
    conditions: Any, *, fields: list[dict], has_previous: bool, members
) -> ConditionGroup:
    """The top level is the seed's flat list (match all) or {"all"|"any": [...]}."""
    reader = _ConditionReader(fields, has_previous, members)
    if isinstance(conditions, Mapping) and ("all" in conditions or "any" in conditions):
        key = "all" if "all" in conditions else "any"
        return reader.group(conditions[key], key, "conditions", 0, f"conditions.{key}")
    return reader.group(conditions, "all", "conditions", 0, "conditions")


# ---------------------------------------------------------------------------------------------
# Actions


@dataclass
class ActionState:
    index: int
    path: str
    uid: str
    type: str
    label: str
    config: dict[str, Any]
    pairs: list[dict[str, Any]] = field(default_factory=list)
    body_text: str = ""
    email_mode: str = "custom"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def form_template(self) -> str:
        """The type's own form: one template per action type, named after it."""
        return f"web/automations/actions/{self.type}.html"


def datalist_id(module_slug: str, field: Mapping[str, Any]) -> str:
    """The <datalist> suggesting values for a field (select options, yes/no, members)."""
    if field.get("type") == "select":
        return f"dl-{module_slug}-{field['key']}"
    if field.get("type") == "boolean":
        return "dl-boolean"
    if field.get("type") == "user":
        return "dl-users"
    return ""


def _pairs(
    values: Any, path: str, *, module_slug: str = "", fields: list[dict] | None = None
) -> list[dict[str, Any]]:
    if not isinstance(values, Mapping):
        return []
    by_key = {f["key"]: f for f in fields or []}
    return [
        {
            "key": str(k),
            "value": input_value(v),
            "path": f"{path}.{k}",
            "uid": _uid(f"{path}.{k}"),
            "list": datalist_id(module_slug, by_key[k]) if k in by_key else "",
            "known": k in by_key,
        }
        for k, v in values.items()
    ]


def action_state(
    action: Any, index: int, *, modules: Mapping[str, list[dict]], trigger_module: str
) -> ActionState:
    """`modules` maps a module slug to its fields; `trigger_module` is the trigger's slug."""
    path = f"actions[{index}]"
    kind = action.get("type") if isinstance(action, Mapping) else None
    config = action.get("config") if isinstance(action, Mapping) else None
    config = dict(config) if isinstance(config, Mapping) else {}
    kind = kind if isinstance(kind, str) and kind in ACTIONS else "update_record"
    state = ActionState(
        index=index,
        path=path,
        uid=_uid(path),
        type=kind,
        label=ACTIONS[kind].label,
        config={k: input_value(v) for k, v in config.items()},
    )
    cpath = f"{path}.config"
    if kind == "update_record":
        state.config.setdefault("record", "trigger")
        slug = (
            trigger_module
            if state.config["record"] == "trigger"
            else state.config.get("module", "")
        )
        state.extra["fields"] = modules.get(slug, [])
        state.pairs = _pairs(
            config.get("updates"),
            f"{cpath}.updates",
            module_slug=slug,
            fields=state.extra["fields"],
        )
    elif kind == "create_record":
        slug = state.config.get("module", "")
        state.extra["fields"] = modules.get(slug, [])
        state.pairs = _pairs(
            config.get("data"), f"{cpath}.data", module_slug=slug, fields=state.extra["fields"]
        )
    elif kind == "send_email":
        state.email_mode = "template" if "template" in config else "custom"
        state.pairs = _pairs(config.get("data"), f"{cpath}.data")
    elif kind == "call_webhook":
        state.config.setdefault("method", "POST")
        state.pairs = _pairs(config.get("headers"), f"{cpath}.headers")
        body = config.get("body")
        if body is None:
            state.body_text = ""
        elif isinstance(body, str):
            state.body_text = json.dumps(body, ensure_ascii=False)
        else:
            state.body_text = json.dumps(body, indent=2, ensure_ascii=False)
    elif kind == "delay":
        state.config.setdefault("unit", "minutes")
    return state


def blank_actions(*, modules: Mapping[str, list[dict]], trigger_module: str) -> list[ActionState]:
    """One empty action of each type, for the <template> elements builder.js clones."""
    return [
        action_state(
            {"type": kind, "config": {}}, 0, modules=modules, trigger_module=trigger_module
        )
        for kind in ACTIONS
    ]


def user_targets(fields: list[dict], members: list[dict]) -> list[dict[str, str]]:
    """Who a notification can go to: the record's user fields, the actor, each member."""
    targets = [
        {"value": f"{{{{record.{f['key']}}}}}", "label": f"The record's {f['label'].lower()}"}
        for f in fields
        if f["type"] == "user"
    ]
    targets.append({"value": "{{user.id}}", "label": "The person who triggered it"})
    targets += [{"value": str(m["id"]), "label": m["label"]} for m in members]
    return targets


def variables_for(trigger_type: str, fields: list[dict]) -> list[dict[str, Any]]:
    """The picker's variables, grouped; builder.js's variablesFor() mirrors this."""
    roots = template_roots(trigger_type)
    groups: list[dict[str, Any]] = []
    all_fields = [*fields, *SYSTEM_FIELDS]
    if "record" in roots:
        groups.append(
            {
                "label": "Record",
                "items": [
                    {"value": f"record.{f['key']}", "label": f"{f['label']}"} for f in all_fields
                ],
            }
        )
    if "previous" in roots:
        groups.append(
            {
                "label": "Previous values",
                "items": [
                    {"value": f"previous.{f['key']}", "label": f"Previous {f['label'].lower()}"}
                    for f in fields
                ],
            }
        )
    if "user" in roots:
        groups.append(
            {
                "label": "Who triggered it",
                "items": [
                    {"value": "user.id", "label": "User id"},
                    {"value": "user.email", "label": "User email"},
                ],
            }
        )
    if "webhook" in roots:
        groups.append(
            {
                "label": "Webhook",
                "items": [
                    {"value": "webhook.body", "label": "Request body"},
                    {"value": "webhook.query", "label": "Query parameters"},
                    {"value": "webhook.headers", "label": "Headers"},
                ],
            }
        )
    groups.append(
        {
            "label": "Other",
            "items": [
                {"value": "now", "label": "Now (current time)"},
                {"value": "trigger.event", "label": "Event"},
                {"value": "trigger.automation_id", "label": "Automation id"},
                {"value": "trigger.run_id", "label": "Run id"},
            ],
        }
    )
    return groups


# ---------------------------------------------------------------------------------------------
# Schedule preview


def cron_preview(schedule: str, tz_name: str, *, now: datetime | None = None) -> dict[str, Any]:
    error = validate_cron(schedule)
    if error:
        return {"ok": False, "error": error, "description": "", "next_runs": []}
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz_name or "UTC")
        runs = next_runs(schedule, tz_name or "UTC", now or dj_timezone.now(), 5)
    except Exception:
        return {
            "ok": False,
            "error": f"unknown timezone {tz_name!r}",
            "description": "",
            "next_runs": [],
        }
    return {
        "ok": True,
        "error": "",
        "description": describe_cron(schedule),
        "next_runs": [
            {
                "utc": run.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "local": run.astimezone(zone).strftime("%a %b %-d %Y, %H:%M %Z"),
            }
            for run in runs
        ],
    }


def timezone_choices() -> list[str]:
    rest = sorted(available_timezones() - set(COMMON_TIMEZONES))
    return [*COMMON_TIMEZONES, *rest]


# ---------------------------------------------------------------------------------------------
# The whole page


@dataclass
class BuilderState:
    name: str
    description: str
    trigger: dict[str, str]
    timezone: str
    conditions: ConditionGroup
    actions: list[ActionState]
    error_handling: dict[str, Any]
    module_fields: list[dict]
    definition_json: str
    cron: dict[str, Any] | None
    webhook_url: str
    variables: list[dict[str, Any]]
    user_targets: list[dict[str, str]]


def definition_of(automation: Automation | None) -> dict[str, Any]:
    if automation is None:
        return {
            "trigger": {"type": RECORD_CREATED, "module": ""},
            "conditions": [],
            "actions": [],
            "error_handling": dict(DEFAULT_ERROR_HANDLING),
            "timezone": "UTC",
        }
    return {
        "trigger": automation.trigger,
        "conditions": automation.conditions,
        "actions": automation.actions,
        "error_handling": automation.error_handling or dict(DEFAULT_ERROR_HANDLING),
        "timezone": automation.timezone,
    }


def builder_state(
    *,
    workspace: Workspace,
    automation: Automation | None,
    name: str,
    description: str,
    definition: Mapping[str, Any],
    schema: dict[str, Any],
) -> BuilderState:
    trigger_raw = definition.get("trigger")
    trigger_raw = trigger_raw if isinstance(trigger_raw, Mapping) else {}
    trigger = {
        k: input_value(trigger_raw.get(k))
        for k in ("type", "module", "field", "schedule", "webhook_path")
    }
    if trigger["type"] not in TRIGGER_TYPES:
        trigger["type"] = RECORD_CREATED
    modules = {m["slug"]: m for m in schema["modules"]}
    fields = modules.get(trigger["module"], {}).get("fields", [])
    members = [(str(m["id"]), m["label"]) for m in schema["members"]]
    tz = zone if isinstance(zone := definition.get("timezone"), str) else "UTC"
    eh = definition.get("error_handling")
    eh = {**DEFAULT_ERROR_HANDLING, **(eh if isinstance(eh, Mapping) else {})}
    actions = definition.get("actions")
    module_map = {slug: m["fields"] for slug, m in modules.items()}
    cron = cron_preview(trigger["schedule"], tz) if trigger["type"] == SCHEDULE else None
    targets = user_targets(fields, schema["members"])
    action_states = [
        action_state(a, i, modules=module_map, trigger_module=trigger["module"])
        for i, a in enumerate(actions if isinstance(actions, list) else [])
    ]
    for action in action_states:
        if action.type == "send_notification":
            current = action.config.get("user_id", "")
            action.extra["user_known"] = current in {t["value"] for t in targets}
    base = schema["webhook_base"]
    path = trigger["webhook_path"] or "your-path"
    webhook = f"{base}{automation.id}/{path}" if automation else ""
    return BuilderState(
        name=name,
        description=description,
        trigger=trigger,
        timezone=tz,
        conditions=conditions_state(
            definition.get("conditions"),
            fields=fields,
            has_previous=trigger["type"] in PREVIOUS_TRIGGERS,
            members=members,
        ),
        actions=action_states,
        error_handling={
            "notify_on_failure": eh.get("notify_on_failure") is not False,
            "notify_email": input_value(eh.get("notify_email")),
            "disable_after_failures": input_value(eh.get("disable_after_failures")),
        },
        module_fields=fields,
        definition_json=json.dumps(
            {k: definition.get(k) for k in CONFIG_PART_KEYS if k in definition},
            indent=2,
            ensure_ascii=False,
        ),
        cron=cron,
        webhook_url=webhook,
        variables=variables_for(trigger["type"], fields),
        user_targets=targets,
    )


DELAY_UNITS = list(ACTIONS["delay"].choices["unit"])
WEBHOOK_METHODS = list(ACTIONS["call_webhook"].choices["method"])
