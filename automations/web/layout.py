"""What every page of the browser UI shares: the signed-in user's current workspace.

The chosen workspace lives in ``session["workspace_slug"]``, which the API's session
authentication reads too, so the builder and the API always act in the same workspace.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Membership, Workspace
from accounts.requests import SignedInRequest
from accounts.selectors import membership_current

SESSION_KEY = "workspace_slug"


class WorkspaceRequest(SignedInRequest):
    """The request a `workspace_view` sees: a signed-in user's, with the workspace they act in
    and their role there (for accounts.roles). Only a type: the wrapper sets the two."""

    workspace: Workspace
    role: str


def current_membership(request: SignedInRequest) -> Membership | None:
    """The session's workspace if the user still belongs to it, else their first one."""
    membership = membership_current(request.user, request.session.get(SESSION_KEY))
    if membership is not None and request.session.get(SESSION_KEY) != membership.workspace.slug:
        request.session[SESSION_KEY] = membership.workspace.slug
    return membership


def user_workspaces(user: User) -> list[Workspace]:
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    return [m.workspace for m in memberships.order_by("workspace__name", "workspace_id")]


def workspace_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in member of a workspace; the view reads ``request.workspace`` and
    ``request.role`` (the user's current role there, for accounts.roles)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # login_required let only a signed-in user through.
        member_request = cast(WorkspaceRequest, request)
        membership = current_membership(member_request)
        if membership is None:
            return render(request, "web/no_workspace.html", status=403)
        member_request.workspace = membership.workspace
        member_request.role = membership.role
        return view(member_request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    """Only same-site paths: a crafted ``next`` must not send users elsewhere."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
