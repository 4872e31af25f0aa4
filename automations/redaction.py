"""What the service never shows of the secrets that pass through it: the one redaction policy.

Secrets reach runs two ways: in an action's rendered config (a webhook's Authorization header,
an API key in its body) and in the headers of an inbound webhook delivery. The policy:

- A name is secret-looking when it contains one of SECRET_NAME_PARTS (any case; `api-key`,
  `api_key` and `apikey` alike). Values under such names are shown as REDACTED wherever the
  service shows them: in an action run's logged config (`redacted_config`, where an empty value
  stays empty, as it hides nothing) and in a run's trigger data as the API returns it
  (`redacted_trigger_data`).
- The credentials of an inbound delivery itself (NEVER_STORED_HEADERS: it authenticated the
  request, or signed it) are not even stored: templates and logs never see them. They are all
  secret-looking names too, so were one stored by an older version, it is still masked.

Masking, not dropping, is the rule elsewhere: templates may use other headers of a delivery,
and the log shows that a header was sent without showing its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

SECRET_NAME_PARTS = (
    "authorization",
    "secret",
    "token",
    "password",
    "passwd",
    "api-key",
    "api_key",
    "apikey",
    "cookie",
    "signature",
)
_SECRET_NAME = re.compile("|".join(re.escape(part) for part in SECRET_NAME_PARTS), re.IGNORECASE)

NEVER_STORED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "webhook-signature"}
)


def is_secret_name(name: object) -> bool:
    """Whether a key or header name looks like it holds a secret."""
    return _SECRET_NAME.search(str(name)) is not None


def redacted_config(value: Any) -> Any:
    """A config as logged on its ActionRun: non-empty values under secret-looking keys hidden,
    at any depth (callers pass a truncated_copy, whose depth is bounded)."""
    if isinstance(value, dict):
        return {
            key: REDACTED if value[key] and is_secret_name(key) else redacted_config(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [redacted_config(item) for item in value]
    return value


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """An inbound delivery's headers (names lowercased) as its run stores them."""
    return {name: value for name, value in headers.items() if name not in NEVER_STORED_HEADERS}


def redacted_trigger_data(trigger_data: dict[str, Any] | None) -> dict[str, Any]:
    """A run's event snapshot as the API shows it: secret-looking headers of an inbound webhook
    masked (record_id and event always present)."""
    data: dict[str, Any] = {"record_id": None, "event": None, **(trigger_data or {})}
    webhook = data.get("webhook")
    if isinstance(webhook, dict) and isinstance(webhook.get("headers"), dict):
        headers = {
            name: REDACTED if is_secret_name(name) else value
            for name, value in webhook["headers"].items()
        }
        data["webhook"] = {**webhook, "headers": headers}
    return data
