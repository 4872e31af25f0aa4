"""Base view and small helpers every API view shares."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Workspace
from config.api.errors import ValidationFailed
from primitives.numbers import shown


class WorkspaceAPIView(APIView):
    # Every query below a view is scoped to the workspace of the caller's key or session.
    # (A comment, not a docstring: drf-spectacular would print a docstring as the description
    # of every operation that inherits it.)

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
