"""The secrets a workspace's outbound webhooks are signed with (Standard Webhooks), and their
rotation.

A workspace's secret is derived from SECRET_KEY, its id and a random value stored on it
(`webhook_secret_nonce`), so a copy of the database alone holds no secret (the key-dump test
checks it). Until its first rotation the value is empty and the secret is what it was for every
workspace before secrets could be rotated: receivers set up then keep verifying.

Rotating draws a new value and keeps the old secret signing beside the new one for
ROTATION_GRACE. Each request then carries two signatures in `webhook-signature`
("v1,<new> v1,<old>"); Standard Webhooks libraries accept a request when any of them verifies,
so a receiver can switch to the new secret at any moment of that day without refusing a
delivery. A leaked secret is thus replaced for one workspace alone, without changing SECRET_KEY
(which changes every workspace's secret at once). Only owners and admins of the workspace may
rotate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import Workspace

ROTATION_GRACE = timedelta(hours=24)


def secret_for(workspace_id: int, nonce: str = "") -> str:
    """whsec_ + base64 of an HMAC of the workspace id and the nonce, keyed with SECRET_KEY."""
    message = f"automations.outbound-webhook:{workspace_id}" + (f":{nonce}" if nonce else "")
    digest = hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def current_secret(workspace: Workspace) -> str:
    """The secret to give receivers now."""
    return secret_for(workspace.id, workspace.webhook_secret_nonce)


def previous_secret_expires_at(
    workspace: Workspace, *, now: datetime | None = None
) -> datetime | None:
    """Until when the secret before the last rotation still signs; None once it does not."""
    rotated = workspace.webhook_secret_rotated_at
    if rotated is None:
        return None
    expires = rotated + ROTATION_GRACE
    return expires if expires > (now or timezone.now()) else None


def signature(workspace: Workspace, *, msg_id: str, at: datetime, payload: str) -> str:
    """The `webhook-signature` header: one signature per secret that signs now."""
    keys = [current_secret(workspace)]
    if previous_secret_expires_at(workspace, now=at) is not None:
        keys.append(secret_for(workspace.id, workspace.previous_webhook_secret_nonce))
    return " ".join(Webhook(key).sign(msg_id, at, payload) for key in keys)


def rotate(*, workspace: Workspace) -> Workspace:
    """Give the workspace a new secret; the current one keeps signing beside it for
    ROTATION_GRACE. Rotating again within the grace drops the oldest secret at once."""
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        locked.previous_webhook_secret_nonce = locked.webhook_secret_nonce
        locked.webhook_secret_nonce = secrets.token_urlsafe(32)
        locked.webhook_secret_rotated_at = timezone.now()
        locked.save(
            update_fields=[
                "webhook_secret_nonce",
                "previous_webhook_secret_nonce",
                "webhook_secret_rotated_at",
            ]
        )
    return locked
