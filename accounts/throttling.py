import logging
import time

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.authentication import WorkspaceAuth

logger = logging.getLogger(__name__)

# After a cache failure, stop asking for this long: reaching a dead Redis costs client retries
# that every request would otherwise pay.
CACHE_BACKOFF = 30.0
_cache_down_until = 0.0


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per web session user), from API_RATE_LIMIT, e.g. "3000/min".

    Counts live in the Django cache (Redis in production), so every web process shares them.
    If the cache is unreachable the limit is not applied (fails open): a Redis outage must not
    turn every API request into a 500, since records and their runs only need the database.
    """

    scope = "api_key"

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request, view) -> str | None:
        auth = request.auth
        if not isinstance(auth, WorkspaceAuth):
            return None  # unauthenticated requests are refused before they cost anything
        ident = f"key{auth.api_key.pk}" if auth.api_key else f"user{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        global _cache_down_until
        if time.monotonic() < _cache_down_until:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's own connection errors (redis-py's, ...)
            _cache_down_until = time.monotonic() + CACHE_BACKOFF
            logger.warning("Rate-limit cache unreachable; not limiting requests", exc_info=True)
            return True
