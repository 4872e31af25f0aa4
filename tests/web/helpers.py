"""Small builders for the web tests."""

import json
from typing import Any

from automations.models import Automation
from automations.runtime import matching
from automations.services import automation_create

NOTIFY_OWNER = {
    "type": "send_notification",
    "config": {"user_id": "{{user.id}}", "title": "Hi {{record.name}}", "message": "m"},
}


def make_automation(tenant, *, enabled: bool = False, name: str = "Welcome", **parts: Any):
    data: dict[str, Any] = {
        "name": name,
        "trigger": {"type": "record.created", "module": "contacts"},
        "actions": [NOTIFY_OWNER],
        "enabled": enabled,
        **parts,
    }
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=data)
    matching.invalidate(tenant.workspace.id)
    return automation


def builder_post(name: str, **definition: Any) -> dict[str, str]:
    """The form builder.js submits: name, description and the JSON definition."""
    return {"name": name, "description": "", "definition": json.dumps(definition)}


def reload(automation: Automation) -> Automation:
    automation.refresh_from_db()
    return automation
