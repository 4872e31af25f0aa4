"""API authentication: `Authorization: Bearer <key>`, or the web UI's session.

Either way `request.auth` is a WorkspaceAuth, and every view scopes its queries to
`request.auth.workspace`.
"""

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from accounts.models import ApiKey, Workspace
from accounts.selectors import api_key_by_plain, membership_current
from accounts.services import api_key_touch


@dataclass(frozen=True)
class WorkspaceAuth:
    workspace: Workspace
    # The caller's current role in the workspace (accounts.roles says what it allows).
    role: str
    api_key: ApiKey | None = None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; expected 'Bearer <api key>'"
            )
        key = api_key_by_plain(token.strip())
        if key is None:
            # Also a key whose user was deactivated or left the workspace: one message, so the
            # answer does not tell a stolen key's holder which of these happened.
            raise exceptions.AuthenticationFailed("Invalid or revoked API key")
        api_key_touch(api_key=key)
        return key.user, WorkspaceAuth(workspace=key.workspace, role=key.member_role, api_key=key)  # type: ignore[attr-defined]  # annotated by api_key_by_plain

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class WorkspaceSessionAuthentication(authentication.SessionAuthentication):
    """The logged-in web user, acting in the workspace the UI has selected (CSRF enforced)."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        membership = membership_current(user, request._request.session.get("workspace_slug"))
        if membership is None:
            return None
        return user, WorkspaceAuth(workspace=membership.workspace, role=membership.role)


class IsWorkspaceMember(permissions.BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        if not isinstance(request.auth, WorkspaceAuth):
            raise exceptions.NotAuthenticated("Missing API key: send 'Authorization: Bearer <key>'")
        return True
