"""The execution logs of an automation (the seed's name for runs): /v1/automations/{id}/logs
(newest first, filtered by status and time), one log, and the retry of a failed one from the
action that failed."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from automations import selectors
from automations.api import schemas
from automations.api.common import (
    AUTOMATIONS_TAG,
    ERRORS,
    automation_not_found,
    automation_or_404,
    reject_unknown_params,
)
from automations.models import Automation, Run
from automations.representation import (
    ACTION_RUN_FIELDS,
    RUN_FIELDS,
    run_data,
    runs_data,
)
from automations.runtime.runs import run_retry
from config.api.openapi import COMMON, data_of, errors, page_parameters
from config.api.pagination import PageParams, page_params, paginate
from config.api.views import WorkspaceAPIView, envelope, workspace_auth
from config.errors import ValidationFailed, not_found
from config.rows import value_rows
from primitives.numbers import shown
from primitives.timestamps import MomentError, MomentOutOfRange, parse_instant


def _log_or_404(automation: Automation, log_id: str) -> Run:
    run = selectors.runs_for(automation).filter(pk=log_id).first()
    if run is None:
        raise not_found(f"Log {log_id}")
    return run


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
        tags=[AUTOMATIONS_TAG],
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
        responses={200: schemas.page_of("RunPage", schemas.RunSchema(many=True)), **ERRORS},
    )
    def get(self, request: Request, automation_id: str) -> Response:
        workspace = workspace_auth(request).workspace
        try:
            status, since, params = self._query(request)
        except ValidationFailed:
            # An unknown automation is a 404 whatever its query says.
            if not selectors.automation_exists(workspace=workspace, automation_id=automation_id):
                raise automation_not_found(automation_id) from None
            raise
        # Counted with the automation joined and scoped to the caller's workspace: a total
        # above zero proves the automation is theirs, so only an empty list costs the check
        # that it exists (the automation itself is never loaded: the runs are read by its id).
        total = selectors.run_total(automation_id, workspace=workspace, status=status, since=since)
        if total == 0 and not selectors.automation_exists(
            workspace=workspace, automation_id=automation_id
        ):
            raise automation_not_found(automation_id)
        runs = selectors.run_rows_for(automation_id, fields=RUN_FIELDS, status=status, since=since)
        rows, meta = paginate(runs, params, count=lambda: total, fetch=value_rows)
        actions = selectors.action_run_rows([r["id"] for r in rows], fields=ACTION_RUN_FIELDS)
        return envelope(runs_data(rows, actions), meta)

    @staticmethod
    def _query(request: Request) -> tuple[str | None, datetime | None, PageParams]:
        reject_unknown_params(request, {"status", "since", "limit", "page", "per_page"})
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
        tags=[AUTOMATIONS_TAG],
        operation_id="automations_log_retrieve",
        summary="One execution log",
        responses={200: schemas.data_of("RunOne", schemas.RunSchema()), **ERRORS},
    )
    def get(self, request: Request, automation_id: str, log_id: str) -> Response:
        run = _log_or_404(automation_or_404(request, automation_id), log_id)
        return envelope(run_data(run))


class RunRetryView(WorkspaceAPIView):
    @extend_schema(
        operation_id="automations_log_retry",
        request=None,
        responses={202: data_of("RunRetried", schemas.RunSchema()), **errors(404, 409, *COMMON)},
        description=(
            "Resume a failed run from the action that failed (earlier actions are not "
            "repeated). 409 run_not_retryable unless the run failed in an action."
        ),
    )
    def post(self, request: Request, automation_id: str, log_id: str) -> Response:
        run = _log_or_404(automation_or_404(request, automation_id), log_id)
        run = run_retry(run=run, user=request.user)
        return envelope(run_data(run), status=202)
