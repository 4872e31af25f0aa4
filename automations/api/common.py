"""What the automations app's API views share: finding the caller's automation (or a 404 that
never reveals another workspace's ids), refusing unknown query parameters, and the error
responses most operations document."""

from __future__ import annotations

from rest_framework.request import Request

from automations import selectors
from automations.models import Automation
from config.api.openapi import COMMON, errors
from config.api.views import workspace_auth
from config.errors import DomainError, ValidationFailed, not_found

AUTOMATIONS_TAG = "automations"
# The error responses of an operation on one of the caller's objects.
ERRORS = errors(404, *COMMON)


def reject_unknown_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed))
        raise ValidationFailed(
            [(key, f"unknown query parameter; expected one of {expected}") for key in unknown]
        )


def automation_not_found(automation_id: str) -> DomainError:
    # Another workspace's automation is "not found" too: ids never leak across workspaces.
    return not_found(f"Automation {automation_id}")


def automation_or_404(request: Request, automation_id: str) -> Automation:
    automation = selectors.automation_get(
        workspace=workspace_auth(request).workspace, automation_id=automation_id
    )
    if automation is None:
        raise automation_not_found(automation_id)
    return automation
