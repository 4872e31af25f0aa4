"""The caller's in-app notifications (a failed run, an automation the circuit breaker
disabled): /v1/notifications with the unread count, marking one or all as read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from automations import links
from automations.engine.templates import format_datetime
from automations.models import Notification
from automations.runtime.notifications import (
    notification_mark_read,
    notification_unread_count,
    notifications_for,
    notifications_mark_all_read,
)
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
from config.errors import ValidationFailed, not_found


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
            raise not_found("Notification")
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
