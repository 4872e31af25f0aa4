"""In-app notifications (written by send_notification and by failure notices) and the failure
notices an automation's error_handling asks for."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Membership, Workspace
from automations.definition.model import definition_of
from automations.models import Automation, Notification, Run
from automations.notifications import notification_create

logger = logging.getLogger(__name__)


def notifications_for(*, user: Any, workspace: Workspace) -> QuerySet[Notification]:
    # notif_user_created serves the list, the unread filter and the unread count.
    return Notification.objects.filter(user=user, workspace=workspace).select_related("run")


def notification_unread_count(*, user: Any, workspace: Workspace) -> int:
    return notifications_for(user=user, workspace=workspace).filter(read_at__isnull=True).count()


def notification_mark_read(*, notification: Notification) -> Notification:
    now = timezone.now()
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now
    )
    if updated:
        notification.read_at = now
    else:
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: Any, workspace: Workspace) -> int:
    return Notification.objects.filter(user=user, workspace=workspace, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# ---------------------------------------------------------------------------------------------
# Failure notices


def _logs_link(automation: Automation, run: Run) -> str:
    return f"/automations/{automation.id}/logs/{run.id}"


def notify_run_failed(*, run_id: str, tripped: bool) -> None:
    """After a failed run commits: email notify_email and tell the creator in the app, as the
    automation's error_handling asks. When the circuit breaker has just disabled the
    automation, the creator is always told. Never raises: a notice must not fail the run."""
    try:
        _notify_run_failed(run_id=run_id, tripped=tripped)
    except Exception:
        logger.exception("Could not send the failure notice for run %s", run_id)


def _notify_run_failed(*, run_id: str, tripped: bool) -> None:
    run = (
        Run.objects.select_related("automation", "automation__created_by", "workspace")
        .filter(id=run_id)
        .first()
    )
    if run is None:
        return
    automation = run.automation
    if automation.disabled_reason and not tripped:
        # Its circuit breaker has tripped, which sends a notice of its own: runs that fail
        # around it (the rest of a bulk change that matched it before) add none each.
        return
    handling = definition_of(automation).error_handling
    notify = handling.notify_on_failure
    if not notify and not tripped:
        return
    error = f"{run.error_code}: {run.error_message}" if run.error_code else "unknown error"
    title = f"Automation failed: {automation.name}"[:200]
    message = f"Run {run.id} failed with {error}"
    if tripped:
        reason = automation.disabled_reason or {}
        title = f"Automation disabled: {automation.name}"[:200]
        message = f"{reason.get('message', 'Automation disabled')}. Last error: {error}"
    link = _logs_link(automation, run)
    creator = automation.created_by
    if (
        creator is not None
        and Membership.objects.filter(workspace_id=automation.workspace_id, user=creator).exists()
    ):
        notification_create(
            workspace=run.workspace,
            user=creator,
            title=title,
            message=message,
            link=link,
            run=run,
        )
    email = handling.notify_email
    if notify and email:
        body = (
            f"{message}\n\nAutomation: {automation.name} ({automation.id})\n"
            f"Log: {settings.PUBLIC_BASE_URL}{link}\n"
        )
        send_mail(title, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
