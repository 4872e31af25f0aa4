"""Failed sign-ins are limited per account and per address, on the web login and the admin's.

Each failure counts against both the username (LOGIN_FAILURE_LIMIT) and the client address
(LOGIN_ADDRESS_FAILURE_LIMIT) in config.ratelimit's fixed windows. Once either is used up, the
form refuses before checking the password, so a guessed right password does not get in either,
and says when to try again. The window is short (a minute by default), so a real user locked
out by someone guessing their password waits at most that long after the guessing stops.

While the cache is unreachable the limits are not applied (config.cache_guard): sign-in must
not depend on Redis.
"""

from __future__ import annotations

import functools
import hashlib
import time
import unicodedata
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from config.cache_guard import FailOpen
from config.ratelimit import Hit, Rate, hit, parse_rate, unhit

THROTTLED = "throttled"
_guard = FailOpen("Sign-in limit")
_OPEN = Hit(allowed=True, count=0, retry_after=0)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the header named by LOGIN_CLIENT_IP_HEADER that a
    proxy in front sets (its last entry: the one the nearest proxy added, which a client cannot
    forge)."""
    header = settings.LOGIN_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        last = value.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def account_key(username: str) -> str:
    """One key for every spelling the login form signs in as the same account: it strips the
    name and folds compatibility forms (NFKC: fullwidth "\\uff41" is "a"), so those must count as
    one, or each spelling would get its own allowance; case is folded too, to be safe."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def _keys(request: HttpRequest | None, username: str) -> list[tuple[str, str]]:
    # Hashed: a username may hold any character, and cache keys should not.
    account = hashlib.sha256(account_key(username).encode()).hexdigest()[:32]
    keys = [(f"login:user:{account}", settings.LOGIN_FAILURE_LIMIT)]
    if request is not None:
        address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
        keys.append((f"login:addr:{address}", settings.LOGIN_ADDRESS_FAILURE_LIMIT))
    return keys


def _limits(request: HttpRequest | None, username: str) -> list[tuple[str, Rate]]:
    limits = []
    for key, setting in _keys(request, username):
        rate = parse_rate(setting)
        if rate is not None:
            limits.append((key, rate))
    return limits


class Attempt:
    """One sign-in attempt, counted against every limit *before* its password is checked.

    Reserving with an atomic increment is what makes the limit hold for a burst sent at once:
    a check-then-count-on-failure lets every parallel attempt pass the check before the first
    failure is counted (password hashing keeps them all in flight), and each one gets a guess.
    An attempt that succeeds, or is refused without a check, gives its reservation back, so the
    counters hold failures (and attempts in flight), as the limits say.
    """

    def __init__(self, request: HttpRequest | None, username: str) -> None:
        self._limits = _limits(request, username)
        self._now = time.time()
        self.retry_after = 0
        for key, rate in self._limits:
            result = _guard.call(functools.partial(hit, key, rate, now=self._now), when_down=_OPEN)
            self.retry_after = max(self.retry_after, result.retry_after)

    def give_back(self) -> None:
        for key, rate in self._limits:
            _guard.call(functools.partial(unhit, key, rate, now=self._now), when_down=None)


def _seconds(wait: int) -> str:
    return "1 second" if wait == 1 else f"{wait} seconds"


# What the mixin is mixed into, for the type checker (at run time it is a plain mixin).
if TYPE_CHECKING:
    _LoginForm = AuthenticationForm
else:
    _LoginForm = object


class ThrottledLoginMixin(_LoginForm):
    """For Django's authentication forms: refuse while over a limit, count each failure."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "") or ""
        attempt = Attempt(self.request, username)
        if attempt.retry_after:
            attempt.give_back()
            self.retry_after = attempt.retry_after
            raise forms.ValidationError(
                "Too many failed sign-in attempts for this account or from your address. "
                f"Try again in {_seconds(attempt.retry_after)}.",
                code=THROTTLED,
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            raise  # a failure: it stays counted
        attempt.give_back()
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
