"""Inbound webhooks: POST /v1/webhooks/{automation_id}/{webhook_path} starts a webhook-triggered
automation without an API key (a secret, when the automation has one, is checked as a Standard
Webhooks signature). The view reads the body under its size limit and hands the rest to
automations.runtime.webhooks_inbound, which stores the run and answers 202 (200 for a delivery
already received)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automations.api.schemas import run_status
from automations.runtime import webhooks_inbound
from config.api.openapi import data_of, errors
from config.api.views import envelope
from config.errors import DomainError


def _read_limited(request: Request) -> bytes:
    """The raw body, refusing more than AUTOMATIONS_WEBHOOK_MAX_BYTES (413)."""
    limit = settings.AUTOMATIONS_WEBHOOK_MAX_BYTES
    too_large = DomainError(
        "payload_too_large", f"The webhook body is larger than {limit} bytes", status=413
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


WebhookAccepted = data_of(
    "WebhookAccepted",
    inline_serializer(
        "WebhookDelivery",
        {
            "log_id": serializers.CharField(),
            "automation_id": serializers.CharField(),
            "status": run_status(),
            "duplicate": serializers.BooleanField(required=False),
        },
    ),
)


class InboundWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="webhooks_receive",
        auth=[],
        request={"application/json": dict, "application/x-www-form-urlencoded": dict},
        responses={
            202: WebhookAccepted,
            200: WebhookAccepted,
            **errors(400, 401, 404, 409, 413, 415, 429),
        },
        description=(
            "Start a webhook-triggered automation (no API key). Answers 202 with the log id; "
            "a webhook-id already received answers 200 with the first delivery's log id. "
            "401 invalid_signature when the automation has a secret and the Standard Webhooks "
            "signature is missing, wrong or more than 5 minutes old."
        ),
    )
    def post(self, request: Request, automation_id: str, webhook_path: str) -> Response:
        automation = webhooks_inbound.webhook_automation(
            automation_id=automation_id, webhook_path=webhook_path
        )
        body = _read_limited(request)
        delivery = webhooks_inbound.receive(
            automation=automation,
            method=str(request.method),
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
            headers=dict(request.headers),
            query={k: vs[0] if len(vs) == 1 else vs for k, vs in request.query_params.lists()},
        )
        data: dict[str, Any] = {
            "log_id": delivery.run.id,
            "automation_id": automation.id,
            "status": delivery.run.status,
        }
        if delivery.duplicate:
            data["duplicate"] = True
            return envelope(data, status=200)
        return envelope(data, status=202)
