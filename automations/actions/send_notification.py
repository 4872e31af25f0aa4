"""send_notification: an in-app notification to a member of the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.models import Membership
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
            link=_text(config.get("link"), 500),
            run=ctx.run,
        )
        return {"notification_id": notification.id, "user_id": user_id}


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text[:limit]
