"""Writes of the accounts app: workspaces (created with their vendor modules and starter
templates through the workspace_created signal), memberships, users by email, and API keys
(shown once, stored hashed, revocable)."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiKey, Membership, Workspace, hash_api_key
from accounts.signals import workspace_created

KEY_PREFIX = "crm_"
LAST_USED_RESOLUTION = timedelta(seconds=60)


@transaction.atomic
def workspace_create(*, slug: str, name: str = "") -> Workspace:
    workspace = Workspace.objects.create(slug=slugify(slug), name=name or slug)
    # records seeds vendor modules, automations seeds starter email templates.
    workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace


def workspace_get_or_create(*, slug: str, name: str = "") -> tuple[Workspace, bool]:
    existing = Workspace.objects.filter(slug=slugify(slug)).first()
    if existing:
        return existing, False
    return workspace_create(slug=slug, name=name), True


def membership_ensure(
    *, workspace: Workspace, user: User, role: str = Membership.Role.MEMBER
) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership


def user_get_or_create(*, email: str) -> tuple[User, bool]:
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).order_by("id").first()
    if user:
        return user, False
    username = email.split("@")[0][:100] or "user"
    base, n = username, 1
    while user_model.objects.filter(username=username).exists():
        n += 1
        username = f"{base}{n}"
    return user_model.objects.create_user(username=username, email=email), True


def api_key_create(*, workspace: Workspace, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Return the stored key and the plain key, which exists only in this return value."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        workspace=workspace,
        user=user,
        name=name,
        prefix=plain[:10],
        key_hash=hash_api_key(plain),
    )
    return key, plain


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute per key, so reads do not each cost a write."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
