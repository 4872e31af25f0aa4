"""HTTP entrances of the engine: inbound webhooks and the caller's in-app notifications."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automations import links, selectors
from automations.api.schemas import RunSchema, run_status
from automations.engine.templates import format_datetime
from automations.models import Notification
from automations.representation import run_data
from automations.runtime import webhooks_inbound
from automations.runtime.notifications import (
    notification_mark_read,
    notification_unread_count,
    notifications_for,
    notifications_mark_all_read,
)
from automations.runtime.runs import run_retry
from config.api.errors import ApiError, ValidationFailed
from config.api.openapi import (
    COMMON,
    MetaSchema,
    boolean_parameter,
    data_of,
    errors,
    page_parameters,
)
from config.api.pagination import page_params, paginate
from config.api.views import WorkspaceAPIView, bool_param, envelope


def _read_limited(request: Request) -> bytes:
    """The raw body, refusing more than AUTOMATIONS_WEBHOOK_MAX_BYTES (413)."""
    limit = settings.AUTOMATIONS_WEBHOOK_MAX_BYTES
    too_large = ApiError(
        "payload_too_large", f"The webhook body is larger than {limit} bytes", status_code=413
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


class NotificationSchema(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    link = serializers.CharField(allow_null=True)
    read = serializers.BooleanField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    log_id = serializers.CharField(allow_null=True)
    automation_id = serializers.CharField(allow_null=True)


class NotificationMetaSchema(MetaSchema):
    unread_count = serializers.IntegerField(min_value=0)


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
            method=request.method,
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
            headers=dict(request.headers),
            query={k: vs[0] if len(vs) == 1 else vs for k, vs in request.query_params.lists()},
        )
        data = {
            "log_id": delivery.run.id,
            "automation_id": automation.id,
            "status": delivery.run.status,
        }
        if delivery.duplicate:
            data["duplicate"] = True
            return envelope(data, status=200)
        return envelope(data, status=202)


def notification_data(notification: Notification) -> dict:
    run = notification.run
    return {
        "id": notification.id,
        "title": notification.title,
        "message": notification.message,
        "link": links.safe_link(notification.link),
        "read": notification.read_at is not None,
        "read_at": format_datetime(notification.read_at) if notification.read_at else None,
        "created_at": format_datetime(notification.created_at),
        "log_id": notification.run_id,
        "automation_id": run.automation_id if run is not None else None,
    }


class NotificationListView(WorkspaceAPIView):
    @extend_schema(
        operation_id="notifications_list",
        parameters=[
            boolean_parameter("unread", "Only unread (true) or only read (false)"),
            *page_parameters(),
        ],
        responses={
            200: inline_serializer(
                "NotificationPage",
                {"data": NotificationSchema(many=True), "meta": NotificationMetaSchema()},
            ),
            **errors(*COMMON),
        },
    )
    def get(self, request: Request) -> Response:
        workspace = self.workspace(request)
        unknown = set(request.query_params) - {"unread", "page", "per_page"}
        if unknown:
            raise ValidationFailed([(k, "unknown query parameter") for k in sorted(unknown)])
        unread = bool_param(request, "unread")
        params = page_params(request.query_params)
        items = notifications_for(user=request.user, workspace=workspace)
        if unread is not None:
            items = items.filter(read_at__isnull=unread)
        page, meta = paginate(items, params)
        meta["unread_count"] = notification_unread_count(user=request.user, workspace=workspace)
        return envelope([notification_data(n) for n in page], meta)


class NotificationReadView(WorkspaceAPIView):
    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses={200: data_of("NotificationOne", NotificationSchema()), **errors(404, *COMMON)},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = (
            notifications_for(user=request.user, workspace=self.workspace(request))
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            raise ApiError("not_found", "Notification not found", status_code=404)
        notification = notification_mark_read(notification=notification)
        return envelope(notification_data(notification))


class NotificationReadAllView(WorkspaceAPIView):
    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses={
            200: data_of(
                "NotificationsMarked",
                inline_serializer(
                    "Marked",
                    {
                        "updated": serializers.IntegerField(),
                        "unread_count": serializers.IntegerField(),
                    },
                ),
            ),
            **errors(*COMMON),
        },
    )
    def post(self, request: Request) -> Response:
        updated = notifications_mark_all_read(user=request.user, workspace=self.workspace(request))
        return envelope({"updated": updated, "unread_count": 0})


class RunRetryView(WorkspaceAPIView):
    @extend_schema(
        operation_id="automations_log_retry",
        request=None,
        responses={202: data_of("RunRetried", RunSchema()), **errors(404, 409, *COMMON)},
        description=(
            "Resume a failed run from the action that failed (earlier actions are not "
            "repeated). 409 run_not_retryable unless the run failed in an action."
        ),
    )
    def post(self, request: Request, automation_id: str, log_id: str) -> Response:
        automation = selectors.automation_get(
            workspace=self.workspace(request), automation_id=automation_id
        )
        if automation is None:
            raise ApiError("not_found", f"Automation {automation_id} not found", status_code=404)
        run = selectors.runs_for(automation).filter(pk=log_id).first()
        if run is None:
            raise ApiError("not_found", f"Log {log_id} not found", status_code=404)
        run = run_retry(run=run, user=request.user)
        return envelope(run_data(run), status=202)
