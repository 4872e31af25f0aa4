"""API keys of the current workspace: create (the key is shown once), revoke, last used; and
the workspace's webhook signing secret, which owners and admins can rotate."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import ApiKey, Membership
from accounts.services import api_key_create, api_key_revoke
from automations import signing
from automations.web.layout import WorkspaceRequest, workspace_view


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, required=False, help_text="What the key is for"
    )


def _keys(request: WorkspaceRequest):
    # A key stops working once its user is inactive or left the workspace
    # (accounts.selectors.api_key_by_plain): the list says so rather than "active".
    member = Membership.objects.filter(
        workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id")
    )
    return (
        ApiKey.objects.filter(workspace=request.workspace)
        .select_related("user")
        .annotate(user_is_member=Exists(member))
        .order_by("revoked_at", "-created_at")
    )


def _listed(request: WorkspaceRequest) -> list[ApiKey]:
    keys = list(_keys(request))
    for key in keys:
        key.may_revoke = roles.may_revoke_key(role=request.role, user_id=request.user.pk, key=key)
    return keys


@workspace_view
def api_key_list(request: WorkspaceRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    plain_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _, plain_key = api_key_create(
                workspace=request.workspace, user=request.user, name=form.cleaned_data["name"]
            )
            form = ApiKeyForm()
        else:
            status = 400
    # The plain key is rendered in this response only, never stored or redirected with.
    response = render(
        request,
        "web/api_keys/list.html",
        {
            "nav": "api_keys",
            "keys": _listed(request),
            "form": form,
            "plain_key": plain_key,
            "webhook_secret": signing.current_secret(request.workspace),
            "previous_secret_expires_at": signing.previous_secret_expires_at(request.workspace),
            "may_rotate": roles.may_manage_workspace(request.role),
        },
        status=status,
    )
    # The page shows the workspace's webhook signing secret, and a new key once: never cached.
    response["Cache-Control"] = "no-store"
    return response


@workspace_view
@require_POST
def api_key_revoke_view(request: WorkspaceRequest, key_id: int) -> HttpResponse:
    key = _keys(request).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such API key")
    if not roles.may_revoke_key(role=request.role, user_id=request.user.pk, key=key):
        raise PermissionDenied(
            "Members may revoke only their own keys; owners and admins may revoke any."
        )
    api_key_revoke(api_key=key)
    messages.success(request, f"Key {key.prefix}… revoked.")
    return redirect("web:api_keys")


@workspace_view
@require_POST
def webhook_secret_rotate_view(request: WorkspaceRequest) -> HttpResponse:
    if not roles.may_manage_workspace(request.role):
        raise PermissionDenied("Only owners and admins of the workspace may rotate its secret.")
    signing.rotate(workspace=request.workspace)
    messages.success(
        request,
        "New signing secret created. Webhooks carry a signature with the previous secret too "
        "for the next 24 hours: update your receivers before then.",
    )
    return redirect("web:api_keys")
