"""send_notification: an in-app notification to a member of the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.models import Membership
from automations import links
from automations.actions.base import Action, ActionContext, ActionError
from automations.runtime.notifications import notification_create
from primitives.user_ids import user_id_value


class SendNotification(Action):
    type = "send_notification"
    transactional = True

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        raw = config.get("user_id")
        user_id = user_id_value(raw)
        if user_id is None:
            raise ActionError("user_not_member", f"user_id {_shown(raw)} is not a user id", True)
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
            link=checked_link(config.get("link")),
            run=ctx.run,
        )
        return {"notification_id": notification.id, "user_id": user_id}


def checked_link(value: Any) -> str:
    """The rendered link, checked again: a template's data may render `javascript:...` or
    `//evil.example` where the saved literal start could not tell. Raises the ActionError the
    run fails with (the dry run shows the same one)."""
    link = "" if value is None else str(value).strip()
    problem = links.link_problem(link) if link else None
    if problem:
        raise ActionError(
            "validation_error",
            f"The link rendered as {_shown(link)} was refused: it {problem}",
            True,
        )
    return link


def _shown(value: Any) -> str:
    """A rendered value quoted for an error message, cut to 100 characters (data can be long)."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text[:limit]
