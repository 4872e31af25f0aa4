"""Small helpers for the end-to-end tests."""

from __future__ import annotations

from typing import Any

from automations.models import Automation, Run


def create_via_api(api, definition: dict[str, Any], *, enabled: bool = True) -> Automation:
    """Create (and enable) an automation through POST /v1/automations, as a user would."""
    response = api.post("/v1/automations", {**definition, "enabled": enabled}, format="json")
    assert response.status_code == 201, response.json()
    return Automation.objects.get(id=response.json()["data"]["id"])


def finished_runs(automation: Automation, count: int = 1) -> list[Run] | None:
    runs = list(Run.objects.filter(automation=automation).order_by("created_at"))
    if len(runs) >= count and all(r.status in Run.FINAL_STATUSES for r in runs):
        return runs
    return None
