from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.authentication import WorkspaceAuth
from config.cache_guard import FailOpen
from config.ratelimit import enforce

_guard = FailOpen("API rate limit")


class ApiKeyRateThrottle(BaseThrottle):
    """Requests per API key (or per web session user), from API_RATE_LIMIT, e.g. "3000/min",
    counted by config.ratelimit as the inbound webhooks' limit is: a fixed window in the Django
    cache (Redis in production), shared by every web process.

    If the cache is unreachable the limit is not applied (fails open): a Redis outage must not
    turn every API request into a 500, since records and their runs only need the database.
    """

    def allow_request(self, request, view) -> bool:
        auth = request.auth
        if not isinstance(auth, WorkspaceAuth):
            return True  # unauthenticated requests are refused before they cost anything
        # A key is counted by its hash, not its pk: SQLite reuses the pk of a deleted row, and a
        # new key must not inherit a deleted key's count.
        ident = f"key{auth.api_key.key_hash}" if auth.api_key else f"user{request.user.pk}"
        # Raises Throttled (429 with Retry-After) when over the limit.
        enforce(f"api:{ident}", settings.API_RATE_LIMIT, "requests", guard=_guard)
        return True
