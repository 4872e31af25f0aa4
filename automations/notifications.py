"""Writing an in-app notification: the one place a Notification row is created.

A domain service, not part of the runtime: the send_notification action and the runtime's
failure notices both call it, and actions never import the runtime.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Workspace
from automations import links
from automations.models import Notification, Run


def notification_create(
    *,
    workspace: Workspace,
    user: Any,
    title: str,
    message: str = "",
    link: str = "",
    run: Run | None = None,
) -> Notification:
    # The one place notifications are written: no caller can store a link the UI or the API
    # would serve as an unsafe href.
    problem = links.link_problem(link) if link else None
    if problem:
        raise ValueError(f"notification link {link!r}: it {problem}")
    return Notification.objects.create(
        workspace=workspace,
        user=user,
        title=title[:200],
        message=message,
        link=link[:500],
        run=run,
    )
