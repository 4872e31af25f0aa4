import hmac

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import ApiKey, Membership, Workspace, hash_api_key


def api_key_by_plain(plain: str) -> ApiKey | None:
    digest = hash_api_key(plain)
    key = (
        ApiKey.objects.select_related("workspace", "user")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    # The lookup is by an index on the hash; the constant-time compare keeps the final check
    # free of timing differences whatever the database does.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return key


def workspace_for_user(user: AbstractBaseUser, slug: str | None = None) -> Workspace | None:
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    if slug:
        memberships = memberships.filter(workspace__slug=slug)
    membership = memberships.order_by("id").first()
    return membership.workspace if membership else None


def workspace_members(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("id")


def is_member(*, workspace: Workspace, user_id: int) -> bool:
    return Membership.objects.filter(workspace=workspace, user_id=user_id).exists()
