"""The signed-in user's notifications in the current workspace."""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from automations import links
from automations.models import Notification
from automations.runtime.notifications import (
    notification_mark_read,
    notifications_for,
    notifications_mark_all_read,
)
from automations.web.layout import WorkspaceRequest, safe_next, workspace_view

PER_PAGE = 25


def _notification_or_404(request: WorkspaceRequest, notification_id: int) -> Notification:
    found = notifications_for(user=request.user, workspace=request.workspace).filter(
        pk=notification_id
    )
    notification = found.first()
    if notification is None:
        raise Http404("No such notification")
    return notification


@workspace_view
def notification_list(request: WorkspaceRequest) -> HttpResponse:
    notifications = notifications_for(user=request.user, workspace=request.workspace)
    show = request.GET.get("show", "all")
    if show == "unread":
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        # Never the stored link as an href: only what automations.links says is safe.
        {"n": n, "site_link": links.site_path(n.link), "external_link": links.external_url(n.link)}
        for n in page.object_list
    ]
    return render(
        request,
        "web/notifications/list.html",
        {"nav": "notifications", "page": page, "rows": rows, "show": show},
    )


@workspace_view
@require_POST
def notification_read(request: WorkspaceRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(notification=_notification_or_404(request, notification_id))
    return redirect(safe_next(request, request.POST.get("next"), reverse("web:notifications")))


@workspace_view
@require_POST
def notification_read_all(request: WorkspaceRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user, workspace=request.workspace)
    return redirect("web:notifications")


@workspace_view
def notification_open(request: WorkspaceRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read; only same-site paths are followed here
    (the page links to other sites directly, so this is no open redirect)."""
    notification = _notification_or_404(request, notification_id)
    notification_mark_read(notification=notification)
    target = links.site_path(notification.link)
    return redirect(safe_next(request, target, reverse("web:notifications")))
