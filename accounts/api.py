"""The API's people: /v1/users (the members of the caller's workspace, with their roles) and
/v1/users/me (the caller and the workspace their key or session acts in)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import workspace_members
from config.api.openapi import COMMON, data_of, errors, page_of
from config.api.views import WorkspaceAPIView, envelope

TAG = "users"


def user_data(user: Any) -> dict[str, Any]:
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return {"id": user.id, "email": user.email, "name": full_name or user.username}


class UserSchema(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField(allow_blank=True)
    name = serializers.CharField()


class MemberSchema(UserSchema):
    role = serializers.ChoiceField(choices=["owner", "admin", "member"])


class MeSchema(UserSchema):
    workspace = serializers.CharField()


class UserListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="users_list",
        responses={200: page_of("MemberPage", MemberSchema(many=True)), **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        members = list(workspace_members(self.workspace(request)))
        data = [{**user_data(m.user), "role": m.role} for m in members]
        return envelope(data, {"total": len(data), "page": 1, "per_page": len(data)})


class MeView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="users_me",
        responses={200: data_of("Me", MeSchema()), **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        workspace = self.workspace(request)
        return envelope({**user_data(request.user), "workspace": workspace.slug})
