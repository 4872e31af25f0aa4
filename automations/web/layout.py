"""What every page of the browser UI shares: the signed-in user's current workspace.

The chosen workspace lives in ``session["workspace_slug"]``, which the API's session
authentication reads too, so the builder and the API always act in the same workspace.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Membership, Workspace
from accounts.selectors import workspace_for_user

SESSION_KEY = "workspace_slug"


def current_workspace(request: HttpRequest) -> Workspace | None:
    """The session's workspace if the user still belongs to it, else their first one."""
    slug = request.session.get(SESSION_KEY)
    workspace = workspace_for_user(request.user, slug) if slug else None
    if workspace is None:
        workspace = workspace_for_user(request.user)
        if workspace is not None:
            request.session[SESSION_KEY] = workspace.slug
    return workspace


def user_workspaces(request: HttpRequest) -> list[Workspace]:
    memberships = Membership.objects.filter(user=request.user).select_related("workspace")
    return [m.workspace for m in memberships.order_by("workspace__name", "workspace_id")]


def workspace_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in member of a workspace; the view reads ``request.workspace``."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = current_workspace(request)
        if workspace is None:
            return render(request, "web/no_workspace.html", status=403)
        request.workspace = workspace
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    """Only same-site paths: a crafted ``next`` must not send users elsewhere."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
