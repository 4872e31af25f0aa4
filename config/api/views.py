"""Base view and small helpers every API view shares."""

from typing import Any, cast

from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import WorkspaceAuth
from accounts.models import Workspace
from config.errors import ValidationFailed
from primitives.numbers import shown


class WorkspaceAPIView(APIView):
    # Every query below a view is scoped to the workspace of the caller's key or session.
    # (A comment, not a docstring: drf-spectacular would print a docstring as the description
    # of every operation that inherits it.)

    def workspace(self, request: Request) -> Workspace:
        return workspace_auth(request).workspace


def workspace_auth(request: Request) -> WorkspaceAuth:
    """The caller's workspace and role. Every API view's permission (IsWorkspaceMember) has
    refused the request before a view runs unless `request.auth` is a WorkspaceAuth."""
    return cast(WorkspaceAuth, request.auth)


def acting_user(request: Request) -> User:
    """The user behind the caller's key or session (never anonymous below the permission)."""
    return cast(User, request.user)


def envelope(data: Any, meta: dict | None = None, *, status: int = 200) -> Response:
    body: dict[str, Any] = {"data": data}
    if meta is not None:
        body["meta"] = meta
    return Response(body, status=status)


def json_object(request: Request) -> dict:
    """The request body, which must be a JSON object."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationFailed([("", "the request body must be a JSON object")])
    return data


def reject_unknown_keys(data: dict, allowed: set[str], prefix: str = "") -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            [
                (f"{prefix}{key}", f"unknown field; expected one of {', '.join(sorted(allowed))}")
                for key in unknown
            ]
        )


def bool_param(request: Request, name: str) -> bool | None:
    """A true/false query parameter (true/1/yes, false/0/no, any case; the schema's
    boolean_parameter documents exactly these); absent or empty is None."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed([(name, f"must be true or false, got {shown(raw)}")])
