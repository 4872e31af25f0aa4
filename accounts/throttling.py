from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.authentication import WorkspaceAuth
from config.cache_guard import FailOpen

_guard = FailOpen("API rate limit")


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
        return _guard.call(
            lambda: super(ApiKeyRateThrottle, self).allow_request(request, view), when_down=True
        )
