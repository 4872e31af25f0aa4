"""Webhook triggers: POST /v1/webhooks/{automation_id}/{webhook_path}.

No API key: the URL names the automation, and an automation with a `webhook_secret` accepts
only requests signed with it (Standard Webhooks: webhook-id, webhook-timestamp and
webhook-signature headers; timestamps more than 5 minutes away are refused). A webhook-id seen
before for the same automation is not run again (InboundDelivery): the answer names the run the
first delivery started. Bodies may be JSON or form-encoded, up to AUTOMATIONS_WEBHOOK_MAX_BYTES.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.db import IntegrityError, transaction
from standardwebhooks import Webhook

from automations.models import Automation, InboundDelivery, Run
from automations.ratelimit import limit_inbound_webhook
from automations.redaction import stored_headers
from automations.runtime.runs import chain_for, run_create, trigger_data_for
from automations.trigger_types import WEBHOOK
from config.api.parsers import enforce_json_policy, refusal
from config.errors import DomainError
from primitives import jsonpolicy


@dataclass(frozen=True)
class Delivery:
    run: Run
    duplicate: bool


# What receiving a delivery reads of its automation (the checks, the run it writes, the
# answer); the definition's JSON columns are left to the worker that runs it.
WEBHOOK_AUTOMATION_FIELDS = ("id", "workspace_id", "version", "webhook_secret")


def webhook_automation(*, automation_id: str, webhook_path: str) -> Automation:
    try:
        return Automation.objects.only(*WEBHOOK_AUTOMATION_FIELDS).get(
            id=automation_id, webhook_path=webhook_path, trigger_type=WEBHOOK, enabled=True
        )
    except Automation.DoesNotExist:
        raise DomainError(
            "not_found", "No enabled webhook automation at this URL", status=404
        ) from None


def verify_signature(*, secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    try:
        Webhook(secret).verify(body.decode("utf-8"), dict(headers), json_parse=False)
    except Exception as err:  # the library raises several types for malformed headers
        raise DomainError(
            "invalid_signature",
            f"Webhook signature verification failed: {err or type(err).__name__}",
            status=401,
        ) from None


def parse_body(body: bytes, content_type: str) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return {}
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise DomainError("invalid_body", "The form body is not UTF-8") from None
        form: dict[str, Any] = {}
        for key, value in pairs:
            if key in form:
                form[key] = (
                    [*form[key], value] if isinstance(form[key], list) else [form[key], value]
                )
            else:
                form[key] = value
        try:
            jsonpolicy.check(form)  # NUL in a field (lone surrogates cannot come from UTF-8)
        except jsonpolicy.JSONRefused as err:
            raise refusal(err, under="body") from None
        return form
    if kind in ("", "application/json", "text/json") or kind.endswith("+json"):
        try:
            return jsonpolicy.loads(body)
        except jsonpolicy.JSONRefused as err:
            if err.malformed:
                raise DomainError("invalid_json", "The request body is not valid JSON") from None
            raise refusal(err, under="body") from None
    raise DomainError(
        "unsupported_media_type",
        f"Unsupported Content-Type '{kind}'; send application/json or "
        "application/x-www-form-urlencoded",
        status=415,
    )


def receive(
    *,
    automation: Automation,
    method: str,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
) -> Delivery:
    """Verify, de-duplicate and store the delivery as a run (published after commit)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if automation.webhook_secret:
        verify_signature(secret=automation.webhook_secret, body=body, headers=lowered)
    limit_inbound_webhook(automation=automation)  # 429 over AUTOMATIONS_WEBHOOK_RATE_LIMIT
    payload = parse_body(body, content_type)  # the body passed the JSON policy there
    request_parts = {
        "method": method,
        "headers": stored_headers(lowered),
        "query": dict(query),
    }
    # The run stores these as JSON too: the same policy as the body's (NUL or a lone surrogate
    # would be a 500 on PostgreSQL). Not the body again: its depth is counted from the body.
    enforce_json_policy(request_parts)
    webhook = {"method": method, "body": payload, **request_parts}
    webhook_id = (lowered.get("webhook-id") or "").strip()[:200]
    chain, _, _ = chain_for(cause=None, automation_id=automation.id, record_id=None)
    trigger_data = trigger_data_for(event=WEBHOOK, webhook=webhook)
    if not webhook_id:
        # Nothing to de-duplicate: the run is the only write, so no transaction around it
        # (BEGIN and COMMIT are two round trips); it is handed over once its INSERT commits.
        run = run_create(automation=automation, trigger_data=trigger_data, chain=chain, marked=True)
        return Delivery(run=run, duplicate=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = InboundDelivery.objects.create(
                    automation=automation, webhook_id=webhook_id
                )
        except IntegrityError:
            earlier = (
                InboundDelivery.objects.select_related("run")
                .filter(automation=automation, webhook_id=webhook_id)
                .first()
            )
            if earlier is not None and earlier.run is not None:
                return Delivery(run=earlier.run, duplicate=True)
            raise DomainError(
                "duplicate_delivery",
                f"Webhook {webhook_id} was already received",
                status=409,
            ) from None
        run = run_create(automation=automation, trigger_data=trigger_data, chain=chain, marked=True)
        InboundDelivery.objects.filter(pk=delivery.pk).update(run=run)
    return Delivery(run=run, duplicate=False)
