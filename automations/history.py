"""An automation's history and copies: its saved versions, restoring one, duplicating it.

Every write goes through automations.services (automation_create / automation_update), so a
restore or a copy is validated, versioned and disabled exactly as an edit in the builder or the
API is: there is no second way to store a definition.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.db.models import QuerySet

from accounts.models import Workspace
from automations.definition.model import DEFINITION_FIELDS
from automations.models import Automation, AutomationVersion
from automations.services import (
    automation_create,
    automation_definition,
    automation_update,
)
from automations.trigger_types import WEBHOOK
from config.errors import DomainError

COPY_SUFFIX = " (copy)"
MAX_NAME_LENGTH = 200  # Automation.name
MAX_WEBHOOK_PATH_LENGTH = 128  # automations.definition's webhook path rule
WEBHOOK_SECRET_BYTES = 32


def versions_of(automation: Automation) -> QuerySet[AutomationVersion]:
    """Newest first, with who saved each (one query)."""
    return automation.versions.select_related("created_by").order_by("-version")


def version_get(automation: Automation, number: int) -> AutomationVersion:
    version = automation.versions.select_related("created_by").filter(version=number).first()
    if version is None:
        raise DomainError(
            "version_not_found", f"{automation.name} has no version {number}", status=404
        )
    return version


def version_parts(version: AutomationVersion) -> dict[str, Any]:
    """The definition a version stored, with every part present (old rows may lack one)."""
    stored = version.definition if isinstance(version.definition, dict) else {}
    return {key: stored.get(key) for key in DEFINITION_FIELDS}


def version_restore(*, automation: Automation, version: AutomationVersion, user: Any) -> Automation:
    """Save `version`'s definition as a new version. As any edit, this disables the automation
    (automation_update's rule); restoring the definition it already has changes nothing.
    ValidationFailed when the old definition no longer fits the workspace (a field since
    deleted, a webhook path now used by another automation)."""
    data = {key: value for key, value in version_parts(version).items() if value is not None}
    return automation_update(automation=automation, user=user, data=data)


def automation_duplicate(*, automation: Automation, user: Any) -> Automation:
    """A disabled copy named "<name> (copy)". A webhook trigger gets a path of its own (paths are
    unique per workspace) and, when the original has its own signing secret, a new secret: a
    caller of the original must not be able to call the copy."""
    data = {
        key: value for key, value in automation_definition(automation).items() if key != "enabled"
    }
    data["name"] = _copy_name(automation.name)
    data.pop("webhook_secret", None)
    if automation.trigger_type == WEBHOOK:
        data["trigger"] = {
            **automation.trigger,
            "webhook_path": free_webhook_path(automation.workspace, automation.webhook_path or ""),
        }
        if automation.webhook_secret:
            data["webhook_secret"] = new_webhook_secret()
    return automation_create(workspace=automation.workspace, user=user, data=data)


def _copy_name(name: str) -> str:
    return name[: MAX_NAME_LENGTH - len(COPY_SUFFIX)] + COPY_SUFFIX


def free_webhook_path(workspace: Workspace, base: str) -> str:
    """`base`-copy, else `base`-copy-2, -3, ...: the first path no automation of the workspace
    uses (within the path length limit)."""
    taken = set(
        Automation.objects.filter(
            workspace=workspace, webhook_path__startswith=base[:100]
        ).values_list("webhook_path", flat=True)
    )
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = base[: MAX_WEBHOOK_PATH_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode()
