"""The Automation API (/v1/automations, /v1/email_templates): thin views over
automations.services (writes), automations.selectors (reads), automations.representation
(JSON) and automations.dryrun."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import roles
from automations import selectors, services, signing
from automations.api import schemas
from automations.dryrun import dry_run
from automations.models import Automation, EmailTemplate, Run
from automations.representation import (
    ACTION_RUN_FIELDS,
    AUTOMATION_FIELDS,
    RUN_FIELDS,
    automation_data,
    automation_row_data,
    run_data,
    runs_data,
)
from automations.trigger_types import (
    MANUAL,
    MODULE_TRIGGERS,
    PREVIOUS_TRIGGERS,
    TRIGGER_TYPES,
    WEBHOOK,
)
from config.api.errors import ApiError, ValidationFailed
from config.api.openapi import COMMON, boolean_parameter, errors, page_parameters
from config.api.pagination import PageParams, page_params, paginate
from config.api.views import (
    WorkspaceAPIView,
    bool_param,
    envelope,
    json_object,
    reject_unknown_keys,
)
from config.rows import value_rows
from primitives.numbers import shown
from primitives.timestamps import MomentError, MomentOutOfRange, iso, parse_instant
from records.fieldtypes import FieldValueError, clean_value
from records.models import Record
from records.selectors import module_fields, record_get
from records.services import SYSTEM_KEYS, record_snapshot

TAG = "automations"
TEMPLATES_TAG = "email templates"
_ERRORS = errors(404, *COMMON)


def _reject_unknown_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed))
        raise ValidationFailed(
            [(key, f"unknown query parameter; expected one of {expected}") for key in unknown]
        )


def _automation_or_404(request: Request, automation_id: str) -> Automation:
    automation = selectors.automation_get(
        workspace=request.auth.workspace, automation_id=automation_id
    )
    if automation is None:
        raise _automation_not_found(automation_id)
    return automation


def _automation_not_found(automation_id: str) -> ApiError:
    # Another workspace's automation is "not found" too: ids never leak across workspaces.
    return ApiError("not_found", f"Automation {automation_id} not found", status_code=404)


# ---------------------------------------------------------------------------------------------
# Automations


class AutomationListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_list",
        summary="List automations",
        parameters=[
            OpenApiParameter("module", str, description="Module slug, e.g. contacts"),
            boolean_parameter("enabled"),
            OpenApiParameter(
                "trigger_type", str, enum=[*TRIGGER_TYPES, ""], description="Empty: any"
            ),
            OpenApiParameter("search", str, description="Part of the name"),
            *page_parameters(),
        ],
        responses={
            200: schemas.page_of("AutomationPage", schemas.AutomationSchema(many=True)),
            **_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        _reject_unknown_params(
            request, {"module", "enabled", "trigger_type", "search", "page", "per_page"}
        )
        trigger_type = request.query_params.get("trigger_type") or None
        if trigger_type is not None and trigger_type not in TRIGGER_TYPES:
            raise ValidationFailed(
                [
                    (
                        "trigger_type",
                        f"unknown trigger type; expected one of {', '.join(TRIGGER_TYPES)}",
                    )
                ]
            )
        workspace = self.workspace(request)
        filters = {
            "module": request.query_params.get("module") or None,
            "enabled": bool_param(request, "enabled"),
            "trigger_type": trigger_type,
            "search": (request.query_params.get("search") or "").strip() or None,
        }
        automations = selectors.automation_rows_for(workspace, fields=AUTOMATION_FIELDS, **filters)
        rows, meta = paginate(
            automations,
            page_params(request.query_params),
            count=lambda: selectors.automations_total(workspace, automations, **filters),
            fetch=value_rows,
        )
        now = timezone.now()  # one instant for every schedule preview of the page
        return envelope([automation_row_data(row, now=now) for row in rows], meta)

    @extend_schema(
        tags=[TAG],
        operation_id="automations_create",
        summary="Create an automation (disabled unless enabled: true)",
        request=schemas.AutomationInSchema,
        responses={
            201: schemas.data_of("AutomationCreated", schemas.AutomationSchema()),
            **_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        automation = services.automation_create(
            workspace=self.workspace(request), user=request.user, data=json_object(request)
        )
        return envelope(automation_data(automation), status=201)


class AutomationDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_retrieve",
        summary="Get an automation",
        responses={200: schemas.data_of("AutomationOne", schemas.AutomationSchema()), **_ERRORS},
    )
    def get(self, request: Request, automation_id: str) -> Response:
        return envelope(automation_data(_automation_or_404(request, automation_id)))

    @extend_schema(
        tags=[TAG],
        operation_id="automations_partial_update",
        summary="Update an automation (a change disables it; enabled alone toggles it)",
        request=schemas.AutomationPatchSchema,
        responses={
            200: schemas.data_of("AutomationUpdated", schemas.AutomationSchema()),
            **_ERRORS,
        },
    )
    def patch(self, request: Request, automation_id: str) -> Response:
        automation = _automation_or_404(request, automation_id)
        automation = services.automation_update(
            automation=automation, user=request.user, data=json_object(request)
        )
        return envelope(automation_data(automation))

    @extend_schema(
        tags=[TAG],
        operation_id="automations_destroy",
        summary="Delete an automation and its logs",
        responses={
            200: inline_serializer(
                "AutomationDeleted",
                {
                    "data": inline_serializer(
                        "Deleted",
                        {"id": serializers.CharField(), "deleted": serializers.BooleanField()},
                    )
                },
            ),
            **_ERRORS,
        },
    )
    def delete(self, request: Request, automation_id: str) -> Response:
        automation = _automation_or_404(request, automation_id)
        services.automation_delete(automation=automation)
        return envelope({"id": automation_id, "deleted": True})


_ENABLED_RESPONSE = inline_serializer(
    "AutomationEnabled",
    {
        "data": inline_serializer(
            "EnabledState", {"id": serializers.CharField(), "enabled": serializers.BooleanField()}
        )
    },
)


class AutomationEnableView(WorkspaceAPIView):
    enabled = True

    @extend_schema(
        tags=[TAG],
        operation_id="automations_enable",
        summary="Enable an automation (also clears the circuit breaker)",
        request=None,
        responses={200: _ENABLED_RESPONSE, **_ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = services.automation_set_enabled(
            automation=_automation_or_404(request, automation_id), enabled=self.enabled
        )
        return envelope({"id": automation.id, "enabled": automation.enabled})


class AutomationDisableView(AutomationEnableView):
    enabled = False

    @extend_schema(
        tags=[TAG],
        operation_id="automations_disable",
        summary="Disable an automation",
        request=None,
        responses={200: _ENABLED_RESPONSE, **_ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        return super().post(request, automation_id)


class AutomationVersionListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_versions",
        summary="Saved versions of an automation, newest first",
        parameters=page_parameters(),
        responses={
            200: schemas.page_of("VersionPage", schemas.VersionSchema(many=True)),
            **_ERRORS,
        },
    )
    def get(self, request: Request, automation_id: str) -> Response:
        automation = _automation_or_404(request, automation_id)
        _reject_unknown_params(request, {"page", "per_page"})
        versions = automation.versions.select_related("created_by").order_by("-version")
        items, meta = paginate(versions, page_params(request.query_params))
        data = [
            {
                "version": v.version,
                "definition": v.definition,
                "created_at": iso(v.created_at),
                "created_by": (
                    {"id": v.created_by.id, "email": v.created_by.email} if v.created_by else None
                ),
            }
            for v in items
        ]
        return envelope(data, meta)


# ---------------------------------------------------------------------------------------------
# Logs


def _since_param(request: Request) -> datetime | None:
    raw = request.query_params.get("since")
    if raw in (None, ""):
        return None
    try:
        return parse_instant(raw)
    except MomentOutOfRange as err:
        raise ValidationFailed([("since", str(err))]) from None
    except MomentError:
        raise ValidationFailed(
            [
                (
                    "since",
                    f"must be an ISO 8601 timestamp such as 2024-01-15T00:00:00Z, got {shown(raw)}",
                )
            ]
        ) from None


class AutomationLogListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_logs",
        summary="Execution logs, newest first",
        parameters=[
            OpenApiParameter(
                "status", str, enum=[*Run.Status.values, ""], description="Empty: any"
            ),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Logs created at or after this time"
            ),
            *page_parameters("limit"),
        ],
        responses={200: schemas.page_of("RunPage", schemas.RunSchema(many=True)), **_ERRORS},
    )
    def get(self, request: Request, automation_id: str) -> Response:
        workspace = request.auth.workspace
        try:
            status, since, params = self._query(request)
        except ValidationFailed:
            # An unknown automation is a 404 whatever its query says.
            if not selectors.automation_exists(workspace=workspace, automation_id=automation_id):
                raise _automation_not_found(automation_id) from None
            raise
        # Counted with the automation joined and scoped to the caller's workspace: a total
        # above zero proves the automation is theirs, so only an empty list costs the check
        # that it exists (the automation itself is never loaded: the runs are read by its id).
        total = selectors.run_total(automation_id, workspace=workspace, status=status, since=since)
        if total == 0 and not selectors.automation_exists(
            workspace=workspace, automation_id=automation_id
        ):
            raise _automation_not_found(automation_id)
        runs = selectors.run_rows_for(automation_id, fields=RUN_FIELDS, status=status, since=since)
        rows, meta = paginate(runs, params, count=lambda: total, fetch=value_rows)
        actions = selectors.action_run_rows([r["id"] for r in rows], fields=ACTION_RUN_FIELDS)
        return envelope(runs_data(rows, actions), meta)

    @staticmethod
    def _query(request: Request) -> tuple[str | None, datetime | None, PageParams]:
        _reject_unknown_params(request, {"status", "since", "limit", "page", "per_page"})
        status = request.query_params.get("status") or None
        if status is not None and status not in Run.Status.values:
            raise ValidationFailed(
                [("status", f"unknown status; expected one of {', '.join(Run.Status.values)}")]
            )
        # `limit` is the seed's name for the page size; per_page is accepted as elsewhere.
        size_name = "limit" if "limit" in request.query_params else "per_page"
        params = page_params(request.query_params, per_page_name=size_name)
        return status, _since_param(request), params


class AutomationLogDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_log_retrieve",
        summary="One execution log",
        responses={200: schemas.data_of("RunOne", schemas.RunSchema()), **_ERRORS},
    )
    def get(self, request: Request, automation_id: str, log_id: str) -> Response:
        automation = _automation_or_404(request, automation_id)
        run = selectors.runs_for(automation).filter(pk=log_id).first()
        if run is None:
            raise ApiError("not_found", f"Log {log_id} not found", status_code=404)
        return envelope(run_data(run))


# ---------------------------------------------------------------------------------------------
# Dry run and manual trigger


def _record_or_404(automation: Automation, record_id: Any) -> Record:
    if not isinstance(record_id, str) or not record_id.strip():
        raise ValidationFailed([("record_id", "must be a record id (rec_...)")])
    record = record_get(
        workspace=automation.workspace, record_id=record_id.strip(), module=automation.module
    )
    if record is None:
        raise ApiError(
            "record_not_found",
            f"Record {record_id} not found in module '{automation.module.slug}'",
            status_code=404,
        )
    return record


def _inline_record(automation: Automation, value: Any, key: str) -> dict[str, Any]:
    """A record given in the body, cleaned like a real one so conditions see stored values."""
    if not isinstance(value, dict):
        raise ValidationFailed([(key, "must be an object of field values")])
    fields = {f.key: f for f in module_fields(automation.module)}
    problems: list[tuple[str, str]] = []
    snapshot: dict[str, Any] = {"id": value.get("id"), "module": automation.module.slug}
    for field_key, field in fields.items():
        snapshot[field_key] = None
        if field_key in value:
            try:
                snapshot[field_key] = clean_value(
                    field.type, value[field_key], options=field.options
                )
            except FieldValueError as err:
                problems.append((f"{key}.{field_key}", str(err)))
    for other in value:
        if other not in fields and other not in SYSTEM_KEYS:
            problems.append(
                (f"{key}.{other}", f"unknown field for module '{automation.module.slug}'")
            )
    if problems:
        raise ValidationFailed(problems)
    snapshot["created_at"] = value.get("created_at")
    snapshot["updated_at"] = value.get("updated_at")
    return snapshot


class AutomationTestView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_test",
        summary="Dry run: evaluate conditions and render actions, with no side effect",
        request=schemas.DryRunInSchema,
        responses={200: schemas.data_of("DryRunResult", schemas.DryRunSchema()), **_ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = _automation_or_404(request, automation_id)
        body = json_object(request)
        trigger_type = automation.trigger_type
        allowed = {"record_id", "record", "previous"} if trigger_type in MODULE_TRIGGERS else set()
        if trigger_type == WEBHOOK:
            allowed.add("webhook")
        if trigger_type not in PREVIOUS_TRIGGERS and "previous" in body:
            raise ValidationFailed(
                [("previous", "previous values exist only for record.updated and field.changed")]
            )
        reject_unknown_keys(body, allowed)

        record = previous = webhook = None
        if trigger_type in MODULE_TRIGGERS:
            if ("record_id" in body) == ("record" in body):
                raise ValidationFailed(
                    [("record_id", "give record_id (an existing record) or record (inline)")]
                )
            if "record_id" in body:
                found = _record_or_404(automation, body["record_id"])
                record = record_snapshot(found, module_fields(automation.module))
            else:
                record = _inline_record(automation, body["record"], "record")
            if body.get("previous") is not None:
                previous = _inline_record(automation, body["previous"], "previous")
                previous = {
                    k: v
                    for k, v in previous.items()
                    if k in body["previous"] or k in ("id", "module")
                }
        if trigger_type == WEBHOOK:
            payload = body.get("webhook") or {}
            if not isinstance(payload, dict):
                raise ValidationFailed([("webhook", "must be an object (body, query, headers)")])
            webhook = {"method": "POST", "body": None, "headers": {}, "query": {}, **payload}
        result = dry_run(
            automation=automation,
            record=record,
            previous=previous,
            user=request.user,
            webhook=webhook,
        )
        return envelope(result)


def _disabled_response(automation: Automation) -> Response:
    """409 in the error shape; after the circuit breaker it reads as the seed's example, with
    the breaker's message and `last_error` beside the code."""
    reason = automation.disabled_reason or {}
    error: dict[str, Any] = {
        "code": "automation_disabled",
        "message": reason.get("message") or "Automation is disabled; enable it to trigger it",
    }
    if reason.get("last_error"):
        error["last_error"] = reason["last_error"]
    error["details"] = {"automation_id": automation.id, "disabled_reason": reason or None}
    return Response({"error": error}, status=409)


class AutomationTriggerView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="automations_trigger",
        summary="Run a manual-trigger automation on a record (queued: 202)",
        request=schemas.TriggerInSchema,
        responses={
            202: inline_serializer(
                "TriggerAccepted",
                {
                    "data": inline_serializer(
                        "Queued",
                        {"log_id": serializers.CharField(), "status": schemas.run_status()},
                    )
                },
            ),
            **errors(409, 422),
            **_ERRORS,
        },
        description=(
            "400 not_manual_trigger for other trigger types; 404 record_not_found; "
            "409 automation_disabled; 422 conditions_not_met when the record fails the "
            "conditions (details.conditions_evaluated)."
        ),
    )
    def post(self, request: Request, automation_id: str) -> Response:
        from automations.runtime.runs import run_manual  # the engine's entrance for runs

        automation = _automation_or_404(request, automation_id)
        if automation.trigger_type != MANUAL:
            raise ApiError(
                "not_manual_trigger",
                f"Only manual-trigger automations can be triggered; this one has a "
                f"{automation.trigger_type} trigger",
                status_code=400,
            )
        body = json_object(request)
        reject_unknown_keys(body, {"record_id"})
        if "record_id" not in body:
            raise ValidationFailed([("record_id", "record_id is required")])
        record = _record_or_404(automation, body["record_id"])
        if not automation.enabled:
            return _disabled_response(automation)
        record.module = automation.module
        run = run_manual(automation=automation, record=record, user=request.user)
        return envelope({"log_id": run.id, "status": run.status}, status=202)


# ---------------------------------------------------------------------------------------------
# Email templates


def email_template_data(template: EmailTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "subject": template.subject,
        "body": template.body,
        "created_at": iso(template.created_at),
        "updated_at": iso(template.updated_at),
    }


def _template_or_404(request: Request, name: str) -> EmailTemplate:
    template = selectors.email_template_get(workspace=request.auth.workspace, name=name)
    if template is None:
        raise ApiError("not_found", f"Email template '{name}' not found", status_code=404)
    return template


class EmailTemplateListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_list",
        summary="List email templates",
        parameters=page_parameters(),
        responses={
            200: schemas.page_of("EmailTemplatePage", schemas.EmailTemplateSchema(many=True)),
            **_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        _reject_unknown_params(request, {"page", "per_page"})
        templates = selectors.email_templates_for(self.workspace(request))
        items, meta = paginate(templates, page_params(request.query_params))
        return envelope([email_template_data(t) for t in items], meta)

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_create",
        summary="Create an email template (subject and body are templates)",
        request=schemas.EmailTemplateSchema,
        responses={
            201: schemas.data_of("EmailTemplateCreated", schemas.EmailTemplateSchema()),
            **_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        template = services.email_template_create(
            workspace=self.workspace(request), data=json_object(request)
        )
        return envelope(email_template_data(template), status=201)


class EmailTemplateDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_retrieve",
        summary="Get an email template",
        responses={
            200: schemas.data_of("EmailTemplateOne", schemas.EmailTemplateSchema()),
            **_ERRORS,
        },
    )
    def get(self, request: Request, name: str) -> Response:
        return envelope(email_template_data(_template_or_404(request, name)))

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_partial_update",
        summary="Update an email template (renaming one in use is refused with 409)",
        request=schemas.EmailTemplatePatchSchema,
        responses={
            200: schemas.data_of("EmailTemplateUpdated", schemas.EmailTemplateSchema()),
            **errors(409),
            **_ERRORS,
        },
    )
    def patch(self, request: Request, name: str) -> Response:
        template = services.email_template_update(
            template=_template_or_404(request, name), data=json_object(request)
        )
        return envelope(email_template_data(template))

    @extend_schema(
        tags=[TEMPLATES_TAG],
        operation_id="email_templates_destroy",
        summary="Delete an email template (409 while automations use it)",
        responses={
            200: inline_serializer(
                "EmailTemplateDeleted",
                {
                    "data": inline_serializer(
                        "TemplateDeleted",
                        {"name": serializers.CharField(), "deleted": serializers.BooleanField()},
                    )
                },
            ),
            **errors(409),
            **_ERRORS,
        },
    )
    def delete(self, request: Request, name: str) -> Response:
        """Refused with 409 template_in_use, naming the automations, while any automation's
        send_email action uses the template."""
        services.email_template_delete(template=_template_or_404(request, name))
        return envelope({"name": name, "deleted": True})


_WORKSPACE_ENVELOPE = inline_serializer(
    "WorkspaceEnvelope",
    {
        "data": inline_serializer(
            "Workspace",
            {
                "slug": serializers.CharField(),
                "name": serializers.CharField(),
                "outbound_webhook_secret": serializers.CharField(),
                "outbound_webhook_signature": serializers.CharField(),
                "previous_outbound_webhook_secret_expires_at": serializers.DateTimeField(
                    allow_null=True
                ),
            },
        )
    },
)


def _workspace_response(workspace) -> Response:
    response = envelope(
        {
            "slug": workspace.slug,
            "name": workspace.name,
            "outbound_webhook_secret": signing.current_secret(workspace),
            "outbound_webhook_signature": "standard-webhooks-v1",
            # Until then, requests are signed with the secret before the last rotation too.
            "previous_outbound_webhook_secret_expires_at": iso(
                signing.previous_secret_expires_at(workspace)
            ),
        }
    )
    response["Cache-Control"] = "no-store"  # it holds a secret
    return response


class WorkspaceView(WorkspaceAPIView):
    """The caller's workspace and the secret its outbound webhooks are signed with, so that a
    receiver can verify them (Standard Webhooks: `Webhook(secret).verify(body, headers)`)."""

    @extend_schema(
        tags=["Workspace"],
        operation_id="workspace_retrieve",
        responses={200: _WORKSPACE_ENVELOPE, **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        return _workspace_response(self.workspace(request))


class WorkspaceSecretRotateView(WorkspaceAPIView):
    """A new outbound webhook signing secret, for a workspace whose secret leaked. The old one
    keeps signing beside it for 24 hours (two signatures per request), so receivers can switch
    without refusing a delivery. Owners and admins of the workspace only."""

    @extend_schema(
        tags=["Workspace"],
        operation_id="workspace_webhook_secret_rotate",
        summary="Rotate the outbound webhook signing secret (owners and admins)",
        request=None,
        responses={200: _WORKSPACE_ENVELOPE, **errors(403, *COMMON)},
    )
    def post(self, request: Request) -> Response:
        workspace = self.workspace(request)
        if not roles.may_manage_workspace(request.auth.role):
            raise PermissionDenied(
                "Only owners and admins of the workspace may rotate its signing secret."
            )
        return _workspace_response(signing.rotate(workspace=workspace))
