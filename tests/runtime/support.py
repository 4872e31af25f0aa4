"""Helpers shared by the engine's tests (tests/runtime, tests/actions, tests/e2e)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from automations.models import Automation, Run
from automations.runtime import matching
from automations.runtime.executor import execute
from automations.services import automation_create


def make_automation(
    tenant,
    *,
    trigger: dict[str, Any],
    actions: list[dict[str, Any]],
    conditions: Any = None,
    error_handling: dict[str, Any] | None = None,
    enabled: bool = True,
    name: str = "Test automation",
    **extra: Any,
) -> Automation:
    """An automation created the way the API creates it (validated by automations.services)."""
    data: dict[str, Any] = {
        "name": name,
        "trigger": trigger,
        "actions": actions,
        "enabled": enabled,
        **extra,
    }
    if conditions is not None:
        data["conditions"] = conditions
    if error_handling is not None:
        data["error_handling"] = error_handling
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=data)
    # The service invalidates the matching index on commit, which a `db` test never reaches.
    matching.invalidate(tenant.workspace.id)
    return automation


def drain(max_rounds: int = 50) -> list[str]:
    """Execute, in this process, every run that is due, until none is (no broker involved)."""
    executed: list[str] = []
    for _ in range(max_rounds):
        due = list(
            Run.objects.filter(status__in=Run.ACTIVE_STATUSES, due_at__lte=timezone.now())
            .order_by("created_at")
            .values_list("id", flat=True)
        )
        if not due:
            return executed
        for run_id in due:
            execute(run_id)
            executed.append(run_id)
    raise AssertionError("runs kept becoming due: a loop?")


def runs_of(automation: Automation) -> list[Run]:
    return list(Run.objects.filter(automation=automation).order_by("created_at"))


def subprocess_database_url() -> str:
    """The test database as a DATABASE_URL for worker, beat or web subprocesses; skips the test
    on a database another process cannot open (an in-memory SQLite one)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(params["NAME"])
        if connection.is_in_memory_db() or not name.startswith("/"):
            pytest.skip("worker subprocesses need a database another process can open")
        return f"sqlite:///{name}"
    if connection.vendor != "postgresql":
        pytest.skip(f"no DATABASE_URL form for {connection.vendor} here")
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host, port = params.get("HOST") or "127.0.0.1", params.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{params['NAME']}"
