"""call_webhook: an HTTP request to an external URL, signed with Standard Webhooks headers.

Signing: every request carries `webhook-id`, `webhook-timestamp` and `webhook-signature`
(https://www.standardwebhooks.com), signed with the workspace's secret (automations.signing:
shown to the workspace in the UI and the API, rotatable, with both secrets signing for a day
after a rotation), so a receiver can verify with any Standard Webhooks library, e.g.
`standardwebhooks.Webhook(secret).verify(raw_body, request_headers)`. `webhook-id` is
`<log id>_<action index>`: the same on every retry of the action, so a receiver can drop
duplicates (delivery is at least once).

Safety: requests go through requests-hardened, which resolves the host, refuses loopback,
private, link-local and other non-public addresses on the address actually connected to, and
never follows redirects, unless settings.AUTOMATIONS_ALLOW_PRIVATE_URLS is on.

Outcome: 2xx is success. A timeout is `action_timeout`. A receiver that could not be reached
(connection refused or reset, a name that does not resolve, a refused address, an invalid URL)
is the seed's `webhook_connection_failed`. A receiver that answered with any other status is
`webhook_http_error`, whose message carries the status and the start of the body. Retried
(the answer may differ next time): network errors, timeouts, 5xx, 408 (request timeout) and
429 (too many requests). Permanent (a retry would get the same answer): 3xx (redirects are
never followed) and every other 4xx.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from django.conf import settings
from requests_hardened import Config
from requests_hardened.ip_filter import InvalidIPAddress
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from automations import signing
from automations.actions.base import Action, ActionContext, ActionError, Done
from automations.engine.templates import format_datetime
from automations.netguard import GuardedManager, host_refusal
from automations.validation import (
    DefinitionContext,
    Problems,
    join,
    type_name,
    unknown_keys,
    url_problems,
)
from primitives.jsonpolicy import made_storable

CONNECT_TIMEOUT = 3.0
DEFAULT_TIMEOUT = 30.0
MAX_LOGGED_BODY = 2_000
MAX_READ_BODY = 64 * 1024
# How much of an error response's body its message shows (the log keeps MAX_LOGGED_BODY).
ERROR_EXCERPT_CHARS = 200
# C0/C1 controls and Unicode line separators: what could break a message into lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUSES = frozenset({408, 429})
USER_AGENT = "automations-webhook/1.0"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The timeout a config may set, in seconds.
TIMEOUT_RANGE = (1, 30)
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


def _manager() -> GuardedManager:
    # GuardedManager (automations.netguard) re-checks the pinned address as globally routable.
    allow_private = settings.AUTOMATIONS_ALLOW_PRIVATE_URLS
    return GuardedManager(
        Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(CONNECT_TIMEOUT, DEFAULT_TIMEOUT),
            user_agent_override=USER_AGENT,
        )
    )


def _read_limited(response: requests.Response, *, deadline: float) -> str:
    """The start of the body, read by `deadline` (time.monotonic()): requests' read timeout
    bounds each read, not the whole, and a receiver that sends a byte every few seconds would
    otherwise hold the worker past its run's lease (the relay would then hand the run to
    another worker, which would call again)."""
    chunks, size = [], 0
    while True:
        # read1: what has arrived (up to 8 KiB), not a full 8 KiB, so the deadline is seen.
        try:
            chunk = response.raw.read1(8192, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as err:  # as iter_content would convert
            raise requests.Timeout(str(err)) from err
        except urllib3.exceptions.HTTPError as err:
            raise requests.ConnectionError(str(err)) from err
        if not chunk:
            break
        if time.monotonic() > deadline:
            raise requests.Timeout("the response took longer than the timeout as a whole")
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_READ_BODY:
            break
    raw = b"".join(chunks)[:MAX_LOGGED_BODY]
    # Logged in the ActionRun's JSON: NUL is replaced like any undecodable byte (jsonb refuses
    # it, and the run could not finish).
    return made_storable(raw.decode(response.encoding or "utf-8", errors="replace"))


def retryable_status(status: int) -> bool:
    """Whether a non-2xx answer may be different next time (the module docstring says why)."""
    return status >= 500 or status in RETRYABLE_STATUSES


def excerpt(text: str, limit: int = ERROR_EXCERPT_CHARS) -> str:
    """The start of a response body as one line fit for an error message: control characters
    and runs of whitespace become one space (a body cannot forge lines in a log or the UI), at
    most `limit` characters, "..." when cut. HTML escaping is the displaying page's job."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def default_payload(ctx: ActionContext) -> dict[str, Any]:
    """Sent when a POST/PUT/PATCH has no configured body: what happened, to whom."""
    data = ctx.trigger_data
    return {
        "event": data.get("event"),
        "automation_id": ctx.automation.id,
        "log_id": ctx.run.id,
        "record_id": data.get("record_id"),
        "module": data.get("module"),
        "timestamp": format_datetime(ctx.now),
    }


def _timeout(config: Mapping[str, Any]) -> float:
    """The whole response's deadline in seconds (validated on save; templates render strings)."""
    return float(config.get("timeout") or DEFAULT_TIMEOUT)


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
    host: str | None = parse_url(f"{scheme}://{authority}/").host
    return host


def url_save_problems(value: Any, path: str) -> Problems:
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


def _headers_problems(headers: Any, path: str) -> Problems:
    if not isinstance(headers, Mapping):
        return [(join(path, "headers"), f"must be an object, got {type_name(headers)}")]
    problems: Problems = []
    for name, value in headers.items():
        where = f"{path}.headers.{name}"
        if not _HEADER_NAME.match(name):
            problems.append((where, f"'{name}' is not a valid header name"))
        elif name.lower() in _RESERVED_HEADERS:
            problems.append((where, f"'{name}' is set by the sender and cannot be set"))
        if not isinstance(value, str):
            problems.append((where, f"a header value must be a string, got {type_name(value)}"))
        elif "\r" in value or "\n" in value:
            problems.append((where, "a header value must not contain line breaks"))
    return problems


class CallWebhook(Action):
    type = "call_webhook"
    label = "Call a webhook"
    choices = {"method": HTTP_METHODS}

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        problems = unknown_keys(config, {"url", "method", "headers", "body", "timeout"}, path)
        if "url" not in config:
            problems.append((join(path, "url"), "url is required"))
        else:
            problems += url_save_problems(config["url"], join(path, "url"))
        method = config.get("method", "POST")
        if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
            problems.append(
                (join(path, "method"), f"must be one of {', '.join(HTTP_METHODS)}, got {method!r}")
            )
        if config.get("headers") is not None:
            problems += _headers_problems(config["headers"], path)
        if "timeout" in config:
            low, high = TIMEOUT_RANGE
            timeout = config["timeout"]
            where = join(path, "timeout")
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                problems.append((where, f"must be a number of seconds ({low}-{high})"))
            elif not low <= timeout <= high:
                problems.append((where, f"must be between {low} and {high} seconds"))
        return problems

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "method": str(config.get("method", "POST")).upper()}

    def max_seconds(self, config: Mapping[str, Any]) -> float:
        try:
            return CONNECT_TIMEOUT + _timeout(config)
        except (AttributeError, TypeError, ValueError):
            return CONNECT_TIMEOUT + DEFAULT_TIMEOUT  # execute() reports the bad value

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
        url = str(config.get("url") or "").strip()
        method = str(config.get("method") or "POST").upper()
        timeout = _timeout(config)
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        if any("\r" in v or "\n" in v for v in headers.values()):
            raise ActionError("webhook_connection_failed", "a header value has a line break", True)
        payload = ""
        if method in BODY_METHODS:
            body = config.get("body")
            payload = json.dumps(
                default_payload(ctx) if body is None else body,
                ensure_ascii=False,
                separators=(",", ":"),
            )
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        msg_id = ctx.idempotency_key
        headers.update(
            {
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(ctx.now.timestamp())),
                "webhook-signature": signing.signature(
                    ctx.workspace, msg_id=msg_id, at=ctx.now, payload=payload
                ),
            }
        )
        output: dict[str, Any] = {"url": url, "method": method, "webhook_id": msg_id}
        deadline = time.monotonic() + CONNECT_TIMEOUT + timeout
        try:
            response = _manager().send_request(
                method,
                url,
                data=payload.encode() if payload else None,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, timeout),
                stream=True,
            )
        except InvalidIPAddress as err:
            raise ActionError(
                "webhook_connection_failed",
                f"{url} resolves to a non-public address ({err}); refused",
                permanent=True,
                output=output,
            ) from err
        except requests.Timeout as err:
            raise ActionError(
                "action_timeout", f"No response from {url} within {timeout:g} s", output=output
            ) from err
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            ValueError,
        ) as err:
            raise ActionError(
                "webhook_connection_failed",
                f"Invalid request to {url}: {err}",
                permanent=True,
                output=output,
            ) from err
        except requests.RequestException as err:
            raise ActionError(
                "webhook_connection_failed", f"Could not reach {url}: {err}", output=output
            ) from err
        with response:
            try:
                text = _read_limited(response, deadline=deadline)
            except requests.RequestException as err:
                raise ActionError(
                    "action_timeout"
                    if isinstance(err, requests.Timeout)
                    else "webhook_connection_failed",
                    f"Reading the response from {url} failed: {err}",
                    output=output,
                ) from err
        output.update({"status_code": response.status_code, "body": text})
        status = response.status_code
        if 200 <= status < 300:
            return Done(output)
        shown = excerpt(text)
        if 300 <= status < 400:
            # Its body is rarely read by anyone; where it points is what the author needs.
            location = excerpt(response.headers.get("Location", ""))
            shown = f"redirects are not followed (Location: {location or 'none'})"
        raise ActionError(
            "webhook_http_error",
            f"HTTP {status} from {url}: {shown}" if shown else f"HTTP {status} from {url}",
            permanent=not retryable_status(status),
            output=output,
        )
