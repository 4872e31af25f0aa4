"""The caller's workspace (/v1/workspace) and the rotation of its outbound webhook signing
secret.

It lives in the automations app, not in accounts beside users and /me, because what it serves
is the automations' outbound webhook secret (automations.signing, derived from the workspace and
SECRET_KEY): accounts serving it would make accounts import automations, which imports accounts.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import roles
from accounts.models import Workspace
from automations import signing
from config.api.openapi import COMMON, errors
from config.api.views import WorkspaceAPIView, envelope, workspace_auth
from primitives.timestamps import iso

_WORKSPACE_ENVELOPE = inline_serializer(
    "WorkspaceEnvelope",
    {
        "data": inline_serializer(
            "Workspace",
            {
                "slug": serializers.CharField(),
                "name": serializers.CharField(),
                "outbound_webhook_secret": serializers.CharField(),
                "outbound_webhook_signature": serializers.CharField(),
                "previous_outbound_webhook_secret_expires_at": serializers.DateTimeField(
                    allow_null=True
                ),
            },
        )
    },
)


def _workspace_response(workspace: Workspace) -> Response:
    response = envelope(
        {
            "slug": workspace.slug,
            "name": workspace.name,
            "outbound_webhook_secret": signing.current_secret(workspace),
            "outbound_webhook_signature": "standard-webhooks-v1",
            # Until then, requests are signed with the secret before the last rotation too.
            "previous_outbound_webhook_secret_expires_at": iso(
                signing.previous_secret_expires_at(workspace)
            ),
        }
    )
    response["Cache-Control"] = "no-store"  # it holds a secret
    return response


class WorkspaceView(WorkspaceAPIView):
    """The caller's workspace and the secret its outbound webhooks are signed with, so that a
    receiver can verify them (Standard Webhooks: `Webhook(secret).verify(body, headers)`)."""

    @extend_schema(
        tags=["Workspace"],
        operation_id="workspace_retrieve",
        responses={200: _WORKSPACE_ENVELOPE, **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        return _workspace_response(self.workspace(request))


class WorkspaceSecretRotateView(WorkspaceAPIView):
    """A new outbound webhook signing secret, for a workspace whose secret leaked. The old one
    keeps signing beside it for 24 hours (two signatures per request), so receivers can switch
    without refusing a delivery. Owners and admins of the workspace only."""

    @extend_schema(
        tags=["Workspace"],
        operation_id="workspace_webhook_secret_rotate",
        summary="Rotate the outbound webhook signing secret (owners and admins)",
        request=None,
        responses={200: _WORKSPACE_ENVELOPE, **errors(403, *COMMON)},
    )
    def post(self, request: Request) -> Response:
        workspace = self.workspace(request)
        if not roles.may_manage_workspace(workspace_auth(request).role):
            raise PermissionDenied(
                "Only owners and admins of the workspace may rotate its signing secret."
            )
        return _workspace_response(signing.rotate(workspace=workspace))
