"""send_notification: an in-app notification to a member of the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.models import Membership
from automations import links
from automations.actions.base import Action, ActionContext, ActionError
from automations.runtime.notifications import notification_create


def _user_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


class SendNotification(Action):
    type = "send_notification"
    transactional = True

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        raw = config.get("user_id")
        user_id = _user_id(raw)
        if user_id is None:
            raise ActionError(
                "user_not_member", f"user_id {raw!r} is not a user id", permanent=True
            )
        membership = (
            Membership.objects.select_related("user")
            .filter(workspace=ctx.workspace, user_id=user_id, user__is_active=True)
            .first()
        )
        if membership is None:
            raise ActionError(
                "user_not_member",
                f"User {user_id} is not a member of this workspace",
                permanent=True,
            )
        notification = notification_create(
            workspace=ctx.workspace,
            user=membership.user,
            title=_text(config.get("title"), 200),
            message=_text(config.get("message"), 5000),
            link=_link(config.get("link")),
            run=ctx.run,
        )
        return {"notification_id": notification.id, "user_id": user_id}


def _link(value: Any) -> str:
    """The rendered link, checked again: a template's data may render `javascript:...` or
    `//evil.example` where the saved literal start could not tell."""
    link = "" if value is None else str(value).strip()
    problem = links.link_problem(link) if link else None
    if problem:
        shown = link if len(link) <= 100 else link[:97] + "..."
        raise ActionError(
            "validation_error", f"The link rendered as {shown!r} was refused: it {problem}", True
        )
    return link


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text[:limit]
