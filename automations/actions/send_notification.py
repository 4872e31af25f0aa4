"""send_notification: an in-app notification to a member of the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.models import Membership
from automations import links
from automations.actions.base import Action, ActionContext, ActionError, Done, PreviewContext
from automations.notifications import notification_create
from automations.validation import (
    DefinitionContext,
    Problems,
    has_markup,
    join,
    optional_string,
    required_string,
    unknown_keys,
)
from primitives.user_ids import user_id_value


class SendNotification(Action):
    type = "send_notification"
    label = "Send a notification"
    transactional = True

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        problems = unknown_keys(config, {"user_id", "title", "message", "link"}, path)
        where = join(path, "user_id")
        user_id = config.get("user_id")
        if user_id is None:
            problems.append((where, "user_id is required"))
        elif isinstance(user_id, str) and has_markup(user_id):
            pass  # resolved when the action runs
        else:
            number = user_id_value(user_id)
            if number is None:
                problems.append(
                    (where, "must be a user id or a template such as {{record.owner_id}}")
                )
            elif not ctx.is_member(number):
                problems.append((where, f"user {number} is not a member of this workspace"))
        problems += required_string(config, "title", path, max_length=200)
        problems += required_string(config, "message", path, max_length=5000)
        problems += optional_string(config, "link", path, max_length=links.MAX_LENGTH)
        link = config.get("link")
        if isinstance(link, str) and link.strip():
            text = link.strip()
            if has_markup(text):
                problem = links.template_start_problem(text)  # the rendered link: when it runs
            else:
                problem = links.link_problem(text)
            if problem:
                problems.append((join(path, "link"), problem))
        return problems

    def preview(self, config: Mapping[str, Any], ctx: PreviewContext) -> dict[str, Any]:
        preview = super().preview(config, ctx)
        rendered = self.rendered_config(preview)
        if rendered is None:
            return preview
        try:
            # The rendered link is checked again when the run sends it, by the same function.
            checked_link(rendered.get("link"))
        except ActionError as err:
            preview["error"] = err.as_preview_error()
        return preview

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
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
        return Done({"notification_id": notification.id, "user_id": user_id})


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
