"""What each workspace role may do: the one place these rules live.

Every entrance asks here with the caller's *current* role (read with the API key in the same
query, or from the session user's membership on each request), so a demotion or removal takes
effect on the next request. The Django admin is the installation operator's tool and is gated
by Django's model permissions instead (accounts.admin).
"""

from accounts.models import ApiKey, Membership

# Owners and admins manage the workspace: rotate its signing secret, revoke anyone's key.
MANAGERS = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


def may_manage_workspace(role: str | None) -> bool:
    return role in MANAGERS


def may_revoke_key(*, role: str | None, user_id: int, key: ApiKey) -> bool:
    """Members revoke their own keys; owners and admins any key of the workspace."""
    return key.user_id == user_id or may_manage_workspace(role)
