"""Template helpers of the browser UI (automations/web/)."""

import json
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

from automations.web.statuses import STATUS_TONES

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    from automations.runtime.notifications import notification_unread_count

    request = context.get("request")
    workspace = getattr(request, "workspace", None)
    if request is None or workspace is None or not request.user.is_authenticated:
        return 0
    return notification_unread_count(user=request.user, workspace=workspace)


@register.simple_tag(takes_context=True)
def workspaces_of_user(context: template.Context) -> list:
    from automations.web.layout import user_workspaces

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return user_workspaces(request.user)


@register.filter
def at(errors: dict | None, path: str) -> list[str]:
    """``errors|at:"actions[1].config.url"``: the server's messages for one path."""
    if not errors:
        return []
    return list(errors.get(path, []))


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@register.filter
def compact_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.simple_tag
def status_badge(status: str | None) -> str:
    if not status:
        return format_html('<span class="badge badge-muted">never run</span>')
    tone = STATUS_TONES.get(status, "muted")
    return format_html('<span class="badge badge-{}">{}</span>', tone, status)


@register.simple_tag
def errors_for(errors: dict | None, *parts: Any) -> str:
    """The server's messages for the path joined from ``parts``, placed beside its input."""
    path = "".join(str(p) for p in parts)
    messages = (errors or {}).get(path, [])
    return format_html_join(
        "", '<p class="error" data-error-for="{}">{}</p>', ((path, m) for m in messages)
    )


@register.simple_tag
def join_path(*parts: Any) -> str:
    return "".join(str(p) for p in parts)
