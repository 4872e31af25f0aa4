"""The automations resource: /v1/automations (list, create), one automation (get, update,
delete), enable/disable, its saved versions, the dry run (/test) and the manual trigger.

Thin views: writes go through automations.services, reads through automations.selectors, the
JSON through automations.representation, the dry run through automations.dryrun and manual runs
through the runtime's run_manual.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from automations import selectors, services
from automations.api import schemas
from automations.api.common import (
    AUTOMATIONS_TAG,
    ERRORS,
    automation_or_404,
    reject_unknown_params,
)
from automations.dryrun import dry_run
from automations.models import Automation
from automations.representation import AUTOMATION_FIELDS, automation_data, automation_row_data
from automations.runtime.runs import run_manual
from automations.trigger_types import (
    MANUAL,
    MODULE_TRIGGERS,
    PREVIOUS_TRIGGERS,
    TRIGGER_TYPES,
    WEBHOOK,
)
from config.api.openapi import boolean_parameter, errors, page_parameters
from config.api.pagination import page_params, paginate
from config.api.views import (
    WorkspaceAPIView,
    bool_param,
    envelope,
    json_object,
    reject_unknown_keys,
)
from config.errors import DomainError, ValidationFailed
from config.rows import value_rows
from primitives.timestamps import iso
from records.fieldtypes import FieldValueError, clean_value
from records.models import Module, Record
from records.selectors import module_fields, record_get
from records.services import SYSTEM_KEYS, record_snapshot


class AutomationListView(WorkspaceAPIView):
    @extend_schema(
        tags=[AUTOMATIONS_TAG],
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
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        reject_unknown_params(
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
        filters: dict[str, Any] = {
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
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_create",
        summary="Create an automation (disabled unless enabled: true)",
        request=schemas.AutomationInSchema,
        responses={
            201: schemas.data_of("AutomationCreated", schemas.AutomationSchema()),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        automation = services.automation_create(
            workspace=self.workspace(request), user=request.user, data=json_object(request)
        )
        return envelope(automation_data(automation), status=201)


class AutomationDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_retrieve",
        summary="Get an automation",
        responses={200: schemas.data_of("AutomationOne", schemas.AutomationSchema()), **ERRORS},
    )
    def get(self, request: Request, automation_id: str) -> Response:
        return envelope(automation_data(automation_or_404(request, automation_id)))

    @extend_schema(
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_partial_update",
        summary="Update an automation (a change disables it; enabled alone toggles it)",
        request=schemas.AutomationPatchSchema,
        responses={
            200: schemas.data_of("AutomationUpdated", schemas.AutomationSchema()),
            **ERRORS,
        },
    )
    def patch(self, request: Request, automation_id: str) -> Response:
        automation = automation_or_404(request, automation_id)
        automation = services.automation_update(
            automation=automation, user=request.user, data=json_object(request)
        )
        return envelope(automation_data(automation))

    @extend_schema(
        tags=[AUTOMATIONS_TAG],
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
            **ERRORS,
        },
    )
    def delete(self, request: Request, automation_id: str) -> Response:
        automation = automation_or_404(request, automation_id)
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
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_enable",
        summary="Enable an automation (also clears the circuit breaker)",
        request=None,
        responses={200: _ENABLED_RESPONSE, **ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = services.automation_set_enabled(
            automation=automation_or_404(request, automation_id), enabled=self.enabled
        )
        return envelope({"id": automation.id, "enabled": automation.enabled})


class AutomationDisableView(AutomationEnableView):
    enabled = False

    @extend_schema(
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_disable",
        summary="Disable an automation",
        request=None,
        responses={200: _ENABLED_RESPONSE, **ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        return super().post(request, automation_id)


class AutomationVersionListView(WorkspaceAPIView):
    @extend_schema(
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_versions",
        summary="Saved versions of an automation, newest first",
        parameters=page_parameters(),
        responses={
            200: schemas.page_of("VersionPage", schemas.VersionSchema(many=True)),
            **ERRORS,
        },
    )
    def get(self, request: Request, automation_id: str) -> Response:
        automation = automation_or_404(request, automation_id)
        reject_unknown_params(request, {"page", "per_page"})
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
# Dry run and manual trigger


def _module_of(automation: Automation) -> Module:
    """The module of a record or manual trigger's automation (only those take a record)."""
    module = automation.module
    assert module is not None, "record and manual triggers always name a module"
    return module


def _record_or_404(automation: Automation, record_id: Any) -> Record:
    if not isinstance(record_id, str) or not record_id.strip():
        raise ValidationFailed([("record_id", "must be a record id (rec_...)")])
    module = _module_of(automation)
    record = record_get(workspace=automation.workspace, record_id=record_id.strip(), module=module)
    if record is None:
        raise DomainError(
            "record_not_found",
            f"Record {record_id} not found in module '{module.slug}'",
            status=404,
        )
    return record


def _inline_record(automation: Automation, value: Any, key: str) -> dict[str, Any]:
    """A record given in the body, cleaned like a real one so conditions see stored values."""
    if not isinstance(value, dict):
        raise ValidationFailed([(key, "must be an object of field values")])
    module = _module_of(automation)
    fields = {f.key: f for f in module_fields(module)}
    problems: list[tuple[str, str]] = []
    snapshot: dict[str, Any] = {"id": value.get("id"), "module": module.slug}
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
            problems.append((f"{key}.{other}", f"unknown field for module '{module.slug}'"))
    if problems:
        raise ValidationFailed(problems)
    snapshot["created_at"] = value.get("created_at")
    snapshot["updated_at"] = value.get("updated_at")
    return snapshot


class AutomationTestView(WorkspaceAPIView):
    @extend_schema(
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_test",
        summary="Dry run: evaluate conditions and render actions, with no side effect",
        request=schemas.DryRunInSchema,
        responses={200: schemas.data_of("DryRunResult", schemas.DryRunSchema()), **ERRORS},
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = automation_or_404(request, automation_id)
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
                record = record_snapshot(found, module_fields(_module_of(automation)))
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
        tags=[AUTOMATIONS_TAG],
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
            **ERRORS,
        },
        description=(
            "400 not_manual_trigger for other trigger types; 404 record_not_found; "
            "409 automation_disabled; 422 conditions_not_met when the record fails the "
            "conditions (details.conditions_evaluated)."
        ),
    )
    def post(self, request: Request, automation_id: str) -> Response:
        automation = automation_or_404(request, automation_id)
        if automation.trigger_type != MANUAL:
            raise DomainError(
                "not_manual_trigger",
                f"Only manual-trigger automations can be triggered; this one has a "
                f"{automation.trigger_type} trigger",
                status=400,
            )
        body = json_object(request)
        reject_unknown_keys(body, {"record_id"})
        if "record_id" not in body:
            raise ValidationFailed([("record_id", "record_id is required")])
        record = _record_or_404(automation, body["record_id"])
        if not automation.enabled:
            return _disabled_response(automation)
        record.module = _module_of(automation)
        run = run_manual(automation=automation, record=record, user=request.user)
        return envelope({"log_id": run.id, "status": run.status}, status=202)
