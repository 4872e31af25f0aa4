"""Signing in and out, and choosing the workspace the UI (and the session API) acts in."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.login_throttle import THROTTLED, ThrottledAuthenticationForm
from accounts.requests import SignedInRequest
from accounts.selectors import workspace_for_user
from automations.web.layout import SESSION_KEY, safe_next, workspace_view


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", THROTTLED):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    pass


@workspace_view
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:automations")


@login_required
@require_POST
def switch_workspace(request: SignedInRequest) -> HttpResponse:
    slug = request.POST.get("workspace", "")
    workspace = workspace_for_user(request.user, slug) if slug else None
    if workspace is None:
        messages.error(request, "You are not a member of that workspace.")
    else:
        request.session[SESSION_KEY] = workspace.slug
        messages.success(request, f"Switched to {workspace.name}.")
    # Pages of the old workspace (a record, a run) do not exist in the new one: go to a list.
    return redirect(safe_next(request, request.POST.get("next"), reverse("web:automations")))
