"""Save-time validation of each action type's config: one small validator per type, registered
in ACTION_TYPES, so a new type is one entry. Validators only check; the action modules under
automations/actions/ execute. Template strings are checked for variables and filters by the
caller (validate_actions); their rendered values are checked when the action runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from automations import links
from automations.definition.common import (
    DefinitionContext,
    Problems,
    email_problems,
    field_values_problems,
    has_markup,
    join,
    optional_string,
    required_string,
    type_name,
    unknown_keys,
    url_problems,
)
from automations.engine.durations import validate_delay
from automations.netguard import host_refusal
from automations.trigger_types import RECORD_DELETED
from primitives.user_ids import user_id_value

MAX_ACTIONS = 50
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WEBHOOK_TIMEOUT_RANGE = (1, 30)
_RECORD_ID = re.compile(r"^rec_[a-z0-9]{4,32}$")
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Set by the HTTP client itself; letting a config set them breaks the request or its signature.
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)


def _update_record(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    problems = unknown_keys(config, {"record", "module", "record_id", "updates"}, path)
    target = config.get("record", "trigger")
    module = None
    if target == "trigger":
        for key in ("module", "record_id"):
            if key in config:
                problems.append((join(path, key), f"{key} is only used with record 'related'"))
        if ctx.trigger_valid:
            if not ctx.has_record:
                problems.append(
                    (
                        join(path, "record"),
                        f"a {ctx.trigger_type} trigger has no triggering record; "
                        "use record 'related' with module and record_id",
                    )
                )
            elif ctx.trigger_type == RECORD_DELETED:
                problems.append(
                    (
                        join(path, "record"),
                        "the triggering record of a record.deleted trigger no longer exists",
                    )
                )
            else:
                module = ctx.module
    elif target == "related":
        problems += required_string(config, "module", path)
        if isinstance(config.get("module"), str) and config["module"].strip():
            module = ctx.module_by_slug(config["module"])
            if module is None:
                problems.append(
                    (join(path, "module"), f"unknown module '{config['module']}' in this workspace")
                )
        problems += required_string(config, "record_id", path)
        record_id = config.get("record_id")
        if isinstance(record_id, str) and record_id.strip() and not has_markup(record_id):
            if not _RECORD_ID.match(record_id.strip()):
                problems.append(
                    (join(path, "record_id"), "must be a record id (rec_...) or a template")
                )
    else:
        problems.append((join(path, "record"), "must be 'trigger' or 'related'"))
    if "updates" not in config:
        problems.append((join(path, "updates"), "updates is required"))
    elif module is not None:
        problems += field_values_problems(
            config["updates"], module, join(path, "updates"), require_all=False
        )
    elif not isinstance(config["updates"], Mapping):
        problems.append((join(path, "updates"), "must be an object of field values"))
    return problems


def _create_record(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    problems = unknown_keys(config, {"module", "data"}, path)
    problems += required_string(config, "module", path)
    module = None
    if isinstance(config.get("module"), str) and config["module"].strip():
        module = ctx.module_by_slug(config["module"])
        if module is None:
            problems.append(
                (join(path, "module"), f"unknown module '{config['module']}' in this workspace")
            )
    if "data" not in config:
        problems.append((join(path, "data"), "data is required"))
    elif module is not None:
        problems += field_values_problems(
            config["data"], module, join(path, "data"), require_all=True
        )
    elif not isinstance(config["data"], Mapping):
        problems.append((join(path, "data"), "must be an object of field values"))
    return problems


def _send_email(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    problems = unknown_keys(
        config, {"to", "cc", "bcc", "reply_to", "template", "data", "subject", "body"}, path
    )
    if "to" not in config:
        problems.append((join(path, "to"), "to is required"))
    else:
        problems += email_problems(config["to"], join(path, "to"), allow_list=True)
    for key in ("cc", "bcc"):
        if config.get(key) is not None:
            problems += email_problems(config[key], join(path, key), allow_list=True)
    if config.get("reply_to") is not None:
        problems += email_problems(config["reply_to"], join(path, "reply_to"), allow_list=False)

    if "template" in config:
        problems += required_string(config, "template", path)
        name = config.get("template")
        if isinstance(name, str) and name.strip() and not ctx.template_exists(name):
            problems.append(
                (
                    join(path, "template"),
                    f"unknown email template '{name}'; create it at /v1/email_templates",
                )
            )
        for key in ("subject", "body"):
            if key in config:
                problems.append(
                    (join(path, key), "give either a template or a subject and body, not both")
                )
        if "data" in config and not isinstance(config["data"], Mapping):
            message = f"must be an object, got {type_name(config['data'])}"
            problems.append((join(path, "data"), message))
    elif "subject" in config or "body" in config:
        problems += required_string(config, "subject", path, max_length=500)
        problems += required_string(config, "body", path)
        if "data" in config:
            problems.append((join(path, "data"), "data is only used with a template"))
    else:
        problems.append((path, "send_email needs a template, or a subject and a body"))
    return problems


def _send_notification(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    problems = unknown_keys(config, {"user_id", "title", "message", "link"}, path)
    where = join(path, "user_id")
    user_id = config.get("user_id")
    if user_id is None:
        problems.append((where, "user_id is required"))
    elif isinstance(user_id, str) and has_markup(user_id):
        pass  # resolved when the action runs
    else:
        number = user_id_value(user_id)
        if number is None:
            problems.append((where, "must be a user id or a template such as {{record.owner_id}}"))
        elif not ctx.is_member(number):
            problems.append((where, f"user {number} is not a member of this workspace"))
    problems += required_string(config, "title", path, max_length=200)
    problems += required_string(config, "message", path, max_length=5000)
    problems += optional_string(config, "link", path, max_length=links.MAX_LENGTH)
    link = config.get("link")
    if isinstance(link, str) and link.strip():
        text = link.strip()
        if has_markup(text):
            problem = links.template_start_problem(text)  # the rendered link: when it runs
        else:
            problem = links.link_problem(text)
        if problem:
            problems.append((join(path, "link"), problem))
    return problems


def _literal_host(url: str) -> str | None:
    """The host of a webhook URL when its text fixes it (a template may follow the host, as in
    `https://10.0.0.1/{{record.id}}`, but not be part of it), as requests will parse it.
    Raises LocationParseError when requests could never parse that authority (a port past
    65535, a bad IDNA label): every run would fail on it."""
    literal = url.strip().split("{{")[0].split("{%")[0]
    scheme, sep, rest = literal.partition("://")
    ends = [i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0]
    if not sep or (not ends and literal != url.strip()):
        return None  # no scheme yet, or the authority runs into a template
    authority = rest[: min(ends)] if ends else rest
    return parse_url(f"{scheme}://{authority}/").host


def _webhook_url_problems(value: Any, path: str) -> Problems:
    """An http(s) URL, refused at once when its host can never be allowed (the same rule as the
    connection's, automations.netguard); templated hosts are checked when the webhook runs."""
    try:
        host = _literal_host(value) if isinstance(value, str) else None
    except LocationParseError:
        # Django's URLValidator takes any 5-digit port and skips templated URLs; requests
        # would refuse this one at every run (and a private host behind it was never judged).
        return [(path, f"{value.strip()!r} is not a valid URL")]
    reason = host_refusal(host) if host and not settings.AUTOMATIONS_ALLOW_PRIVATE_URLS else None
    if reason:
        return [(path, f"{reason}: webhooks may only call public hosts")]
    return url_problems(value, path)


def _call_webhook(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    problems = unknown_keys(config, {"url", "method", "headers", "body", "timeout"}, path)
    if "url" not in config:
        problems.append((join(path, "url"), "url is required"))
    else:
        problems += _webhook_url_problems(config["url"], join(path, "url"))
    method = config.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
        problems.append(
            (join(path, "method"), f"must be one of {', '.join(HTTP_METHODS)}, got {method!r}")
        )
    headers = config.get("headers")
    if headers is not None:
        if not isinstance(headers, Mapping):
            problems.append((join(path, "headers"), f"must be an object, got {type_name(headers)}"))
        else:
            for name, value in headers.items():
                where = f"{path}.headers.{name}"
                if not _HEADER_NAME.match(name):
                    problems.append((where, f"'{name}' is not a valid header name"))
                elif name.lower() in _RESERVED_HEADERS:
                    problems.append((where, f"'{name}' is set by the sender and cannot be set"))
                if not isinstance(value, str):
                    message = f"a header value must be a string, got {type_name(value)}"
                    problems.append((where, message))
                elif "\r" in value or "\n" in value:
                    problems.append((where, "a header value must not contain line breaks"))
    if "timeout" in config:
        low, high = WEBHOOK_TIMEOUT_RANGE
        timeout = config["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            problems.append((join(path, "timeout"), f"must be a number of seconds ({low}-{high})"))
        elif not low <= timeout <= high:
            problems.append((join(path, "timeout"), f"must be between {low} and {high} seconds"))
    return problems


def _normalize_webhook(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "method": str(config.get("method", "POST")).upper()}


def _delay(config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
    return validate_delay(config, path)


def _normalize_update(config: dict[str, Any]) -> dict[str, Any]:
    return {"record": "trigger", **config}


Validator = Callable[[Mapping[str, Any], DefinitionContext, str], Problems]


@dataclass(frozen=True)
class ActionType:
    validate: Validator
    # Fills documented defaults so the stored config says what will happen.
    normalize: Callable[[dict[str, Any]], dict[str, Any]] = dict
    # Whether the config's strings are templates (a delay's are not).
    templated: bool = True


ACTION_TYPES: dict[str, ActionType] = {
    "update_record": ActionType(_update_record, _normalize_update),
    "create_record": ActionType(_create_record),
    "send_email": ActionType(_send_email),
    "send_notification": ActionType(_send_notification),
    "call_webhook": ActionType(_call_webhook, _normalize_webhook),
    "delay": ActionType(_delay, templated=False),
}


def validate_actions(actions: Any, ctx: DefinitionContext) -> tuple[Problems, list[dict]]:
    """Return (problems, cleaned actions)."""
    if actions is None:
        return [("actions", "actions is required")], []
    if not isinstance(actions, list):
        return [("actions", f"must be a list of actions, got {type_name(actions)}")], []
    if not actions:
        return [("actions", "an automation needs at least one action")], []
    if len(actions) > MAX_ACTIONS:
        return [("actions", f"at most {MAX_ACTIONS} actions, got {len(actions)}")], []
    problems: Problems = []
    cleaned: list[dict] = []
    for index, action in enumerate(actions):
        path = f"actions[{index}]"
        if not isinstance(action, Mapping):
            message = f"must be an object with type and config, got {type_name(action)}"
            problems.append((path, message))
            continue
        problems += unknown_keys(action, {"type", "config"}, path)
        kind = action.get("type")
        spec = ACTION_TYPES.get(kind) if isinstance(kind, str) else None
        if "type" not in action:
            problems.append((f"{path}.type", "type is required"))
        elif spec is None:
            expected = ", ".join(ACTION_TYPES)
            message = f"unknown action type {kind!r}; expected one of {expected}"
            problems.append((f"{path}.type", message))
        config = action.get("config")
        config_path = f"{path}.config"
        if "config" not in action:
            problems.append((config_path, "config is required"))
            continue
        if not isinstance(config, Mapping):
            problems.append((config_path, f"must be an object, got {type_name(config)}"))
            continue
        if spec is None:
            continue
        problems += spec.validate(config, ctx, config_path)
        if spec.templated and ctx.trigger_valid:
            problems += ctx.templates(dict(config), config_path)
        cleaned.append({"type": kind, "config": spec.normalize(dict(config))})
    return problems, cleaned
