"""Base view and small helpers every API view shares."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Workspace
from config.api.errors import ValidationFailed


class WorkspaceAPIView(APIView):
    """Every query below a view is scoped to the workspace of the caller's key or session."""

    def workspace(self, request: Request) -> Workspace:
        return request.auth.workspace


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
