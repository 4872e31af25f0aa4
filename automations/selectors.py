"""Reads of automations, runs and email templates, always scoped to one workspace."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model, QuerySet

from accounts.models import Workspace
from automations.definition.model import actions_from_json
from automations.models import ActionRun, Automation, EmailTemplate, Run
from automations.runtime import matching
from records.models import Module


def _column(model: type[Model], name: str) -> str:
    """The database column of a concrete field of `model` ("pk": its primary key's)."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return cast(str, cast("Field[Any, Any]", field).column)


def automations_for(
    workspace: Workspace,
    *,
    module: Module | str | None = None,
    enabled: bool | None = None,
    trigger_type: str | None = None,
    search: str | None = None,
) -> QuerySet[Automation]:
    """Newest first (index auto_workspace_created); `module` is a Module or its slug."""
    return _automations(
        workspace, module=module, enabled=enabled, trigger_type=trigger_type, search=search
    ).select_related("module")


def automation_rows_for(
    workspace: Workspace,
    *,
    fields: Sequence[str],
    module: Module | str | None = None,
    enabled: bool | None = None,
    trigger_type: str | None = None,
    search: str | None = None,
) -> QuerySet:
    """automations_for as rows (dicts) of `fields` only: the API's list, whose representation
    needs neither the module nor model instances (building them cost more than the query)."""
    return _automations(
        workspace, module=module, enabled=enabled, trigger_type=trigger_type, search=search
    ).values(*fields)


def automations_total(
    workspace: Workspace,
    automations: QuerySet,
    *,
    module: Module | str | None = None,
    enabled: bool | None = None,
    trigger_type: str | None = None,
    search: str | None = None,
) -> int:
    """automations.count(), `automations` being automations_for() or automation_rows_for() of
    the same filters, remembered until the workspace's automations next change
    (matching.cached_per_version: every automation write replaces the version it is stored
    with). Counted afresh when filtered by module: a module's slug is another table's."""
    if module is not None:
        return automations.count()
    search_key = hashlib.sha256(search.encode()).hexdigest()[:32] if search else ""
    name = f"list-total:{enabled}:{trigger_type or ''}:{search_key}"
    return matching.cached_per_version(workspace.id, name, automations.count)


def _automations(
    workspace: Workspace,
    *,
    module: Module | str | None,
    enabled: bool | None,
    trigger_type: str | None,
    search: str | None,
) -> QuerySet[Automation]:
    automations = Automation.objects.filter(workspace=workspace)
    if isinstance(module, Module):
        automations = automations.filter(module=module)
    elif module:
        automations = automations.filter(module__slug=module)
    if enabled is not None:
        automations = automations.filter(enabled=enabled)
    if trigger_type:
        automations = automations.filter(trigger_type=trigger_type)
    if search:
        automations = automations.filter(name__icontains=search)
    return automations.order_by("-created_at", "id")


def automation_get(*, workspace: Workspace, automation_id: str) -> Automation | None:
    """None for an unknown id and for another workspace's automation alike."""
    return (
        Automation.objects.filter(workspace=workspace, pk=automation_id)
        .select_related("module", "workspace")
        .first()
    )


def automation_exists(*, workspace: Workspace, automation_id: str) -> bool:
    """False for an unknown id and for another workspace's automation alike."""
    return Automation.objects.filter(workspace=workspace, pk=automation_id).exists()


def _runs(
    automation: Automation | str, *, status: str | None, since: datetime | None
) -> QuerySet[Run]:
    runs = Run.objects.filter(automation=automation)
    if status:
        runs = runs.filter(status=status)
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    return runs.order_by("-created_at", "-id")


def runs_for(
    automation: Automation, *, status: str | None = None, since: datetime | None = None
) -> QuerySet[Run]:
    """Newest first, with their action runs (indexes run_automation_created/_status).

    `since` is inclusive: runs created at or after it.
    """
    return _runs(automation, status=status, since=since).prefetch_related("action_runs")


def run_rows_for(
    automation: Automation | str,
    *,
    fields: Sequence[str],
    status: str | None = None,
    since: datetime | None = None,
) -> QuerySet:
    """runs_for as rows (dicts) of `fields` only, without their action runs (a page of them
    is read with action_run_rows): the API's log list, where model instances and the
    prefetch machinery cost more than the queries. `automation` may be its id."""
    return _runs(automation, status=status, since=since).values(*fields)


def run_total(
    automation_id: str,
    *,
    workspace: Workspace,
    status: str | None = None,
    since: datetime | None = None,
) -> int:
    """How many runs run_rows_for gives, and 0 for another workspace's automation: a total
    above zero also proves that the automation is the workspace's."""
    if connection.vendor != "postgresql":
        runs = _runs(automation_id, status=status, since=since)
        return runs.filter(automation__workspace=workspace).count()
    # The automation's id comes from a scalar subquery that finds it only in the workspace:
    # the count stays an index-only scan (a join costs a step per run). The statement is
    # formatted by hand from the models' metadata (a few string joins per request) instead of
    # being compiled by the ORM.
    quote = connection.ops.quote_name
    column = {f: quote(_column(Run, f)) for f in ("automation", "status", "created_at")}
    automation_pk = quote(_column(Automation, "pk"))
    conditions = [
        f"{column['automation']} = (SELECT {automation_pk} "  # noqa: S608
        f"FROM {quote(Automation._meta.db_table)} WHERE {automation_pk} = %s "
        f"AND {quote(_column(Automation, 'workspace'))} = %s)"
    ]
    params: list = [automation_id, workspace.id]
    if status:
        conditions.append(f"{column['status']} = %s")
        params.append(status)
    if since is not None:
        conditions.append(f"{column['created_at']} >= %s")
        params.append(since)
    sql = f"SELECT COUNT(*) FROM {quote(Run._meta.db_table)} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def action_run_rows(run_ids: Sequence[str], *, fields: Sequence[str]) -> list[dict]:
    """The action runs of these runs as rows of `fields` (plain columns: no JSON or dates), by
    run and then index; one query (none for no runs)."""
    if not run_ids:
        return []
    if connection.vendor != "postgresql":
        return list(
            ActionRun.objects.filter(run_id__in=run_ids).order_by("run_id", "index").values(*fields)
        )
    # A page's 50 ids as one array parameter: the ORM's IN (%s, ... %s) cost three times as
    # much to build and bind as the query took to run. Served by action_run_unique.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(ActionRun, f)) for f in fields)
    table = quote(ActionRun._meta.db_table)
    sql = (
        f"SELECT {columns} FROM {table} WHERE {quote('run_id')} = ANY(%s) "  # noqa: S608
        f"ORDER BY {quote('run_id')}, {quote('index')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(run_ids)])
        return [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]


def email_templates_for(workspace: Workspace) -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.filter(workspace=workspace).order_by("name")


def email_template_get(*, workspace: Workspace, name: str) -> EmailTemplate | None:
    return EmailTemplate.objects.filter(workspace=workspace, name=name).first()


def automations_using_template(*, workspace: Workspace, name: str) -> list[Automation]:
    """Automations whose send_email actions name the template. Read in Python rather than with
    a JSON containment lookup, which SQLite (the default database) does not support."""
    rows = Automation.objects.filter(workspace=workspace).only("id", "name", "actions")
    return [
        automation
        for automation in rows.order_by("name", "id")
        if any(
            spec.type == "send_email" and spec.config.get("template") == name
            for spec in actions_from_json(automation.actions)
        )
    ]
