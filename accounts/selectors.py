import hmac

from django.contrib.auth.models import User
from django.db.models import OuterRef, Subquery

from accounts.models import ApiKey, Membership, Workspace, hash_api_key


def api_key_by_plain(plain: str) -> ApiKey | None:
    """The live key, with `member_role`: its user's current role in the key's workspace.

    A key acts for its user, so it works only while the user is active and still a member of
    the key's workspace. Both are checked in the lookup's one query (a join on the user and a
    subquery on the membership's unique index), not by more queries on every request.
    """
    digest = hash_api_key(plain)
    role = Membership.objects.filter(
        workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id")
    ).values("role")[:1]
    key = (
        ApiKey.objects.select_related("workspace", "user")
        .annotate(member_role=Subquery(role))
        .filter(
            key_hash=digest,
            revoked_at__isnull=True,
            user__is_active=True,
            member_role__isnull=False,
        )
        .first()
    )
    # The lookup is by an index on the hash; the constant-time compare keeps the final check
    # free of timing differences whatever the database does.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return key


def membership_for_user(user: User, slug: str | None = None) -> Membership | None:
    """The user's membership of the workspace `slug` (of their first one when no slug is
    given), with its workspace; None if there is none, and for an inactive user, who keeps no
    access anywhere."""
    if not user.is_active:
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    if slug:
        memberships = memberships.filter(workspace__slug=slug)
    return memberships.order_by("id").first()


def membership_current(user: User, slug: str | None) -> Membership | None:
    """The membership a signed-in user acts with: of the workspace chosen in the session if
    they still belong to it, else of their first workspace. Read on every request, so a user
    removed from a workspace loses it (and a demoted one their rights) on the next one."""
    return (membership_for_user(user, slug) if slug else None) or membership_for_user(user)


def workspace_for_user(user: User, slug: str | None = None) -> Workspace | None:
    membership = membership_for_user(user, slug)
    return membership.workspace if membership else None


def workspace_members(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("id")


def is_member(*, workspace: Workspace, user_id: int) -> bool:
    return Membership.objects.filter(workspace=workspace, user_id=user_id).exists()
