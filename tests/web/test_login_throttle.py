"""Failed sign-ins are limited per account and per address, on the web login and the admin's
(issue 15, item 9). Counters live in the real cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import login_throttle

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = "3/min"
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = "6/min"
    settings.LOGIN_CLIENT_IP_HEADER = ""
    # Hashing is not what is tested here: a fast hasher keeps many sign-ins cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    login_throttle._guard.reset()


@pytest.fixture(autouse=True)
def _one_window():
    """Each test in one fixed minute window: its counts would otherwise start over if the real
    clock crossed a minute while it ran (the tests check counts within one window). Frozen at the
    window's first second; keys are unique per test (users, addresses), so tests share nothing."""
    start = timezone.now().replace(second=1, microsecond=0)
    with time_machine.travel(start, tick=False):
        yield


def _user(**extra):
    """A user of a name no other test uses, so counters never carry over between tests."""
    name = f"user-{uuid.uuid4().hex[:10]}"
    return get_user_model().objects.create_user(username=name, password=PASSWORD, **extra)


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _sign_in(client: Client, username: str, password: str, path: str = "/login/"):
    return client.post(path, {"username": username, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_after_the_limit_even_the_right_password_is_refused_with_a_clear_message():
    user = _user()
    client = Client(REMOTE_ADDR=_address())
    for _ in range(3):
        assert _sign_in(client, user.username, "wrong").status_code == 200

    response = _sign_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "Try again in" in response.content.decode()
    assert not _signed_in(client)


def test_below_the_limit_the_right_password_signs_in():
    user = _user()
    client = Client(REMOTE_ADDR=_address())
    for _ in range(2):
        _sign_in(client, user.username, "wrong")

    response = _sign_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_account_limit_holds_from_every_address_and_any_case_of_the_name():
    user = _user()
    for _ in range(3):
        _sign_in(Client(REMOTE_ADDR=_address()), user.username, "wrong")

    elsewhere = Client(REMOTE_ADDR=_address())
    response = _sign_in(elsewhere, user.username.upper(), PASSWORD)

    assert response.status_code == 429
    assert not _signed_in(elsewhere)


def test_the_address_limit_holds_across_accounts_and_spares_other_addresses():
    address = _address()
    for _ in range(6):
        _sign_in(Client(REMOTE_ADDR=address), f"nobody-{uuid.uuid4().hex[:8]}", "wrong")
    user = _user()

    blocked = _sign_in(Client(REMOTE_ADDR=address), user.username, PASSWORD)
    other = Client(REMOTE_ADDR=_address())
    allowed = _sign_in(other, user.username, PASSWORD)

    assert blocked.status_code == 429
    assert allowed.status_code == 302 and _signed_in(other)


def test_the_real_user_gets_in_once_the_short_window_is_over():
    user = _user()
    client = Client(REMOTE_ADDR=_address())
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            _sign_in(client, user.username, "wrong")
        assert _sign_in(client, user.username, PASSWORD).status_code == 429

        clock.shift(timedelta(seconds=61))
        response = _sign_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_admin_login_shares_the_limits():
    staff = _user(is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR=_address())
    for _ in range(3):
        _sign_in(client, staff.username, "wrong", path="/admin/login/")

    response = _sign_in(client, staff.username, PASSWORD, path="/admin/login/")

    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not _signed_in(client)
    # And failures in the admin count for the web login too.
    assert _sign_in(client, staff.username, PASSWORD).status_code == 429


def test_the_proxys_client_header_is_the_address_when_configured(settings):
    settings.LOGIN_CLIENT_IP_HEADER = "X-Forwarded-For"
    proxy = _address()
    attacker = _address()
    for _ in range(6):
        Client(REMOTE_ADDR=proxy).post(
            "/login/",
            {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong"},
            # A forged first entry does not move the attacker to another address.
            HTTP_X_FORWARDED_FOR=f"{_address()}, {attacker}",
        )
    user = _user()

    same = Client(REMOTE_ADDR=proxy).post(
        "/login/", {"username": user.username, "password": PASSWORD}, HTTP_X_FORWARDED_FOR=attacker
    )
    other = Client(REMOTE_ADDR=proxy).post(
        "/login/",
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR=_address(),
    )

    assert same.status_code == 429
    assert other.status_code == 302


def test_sign_in_works_while_the_cache_is_down(settings):
    # A Redis nobody listens on: connections are refused, as in an outage.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"},
    }
    user = _user()
    client = Client(REMOTE_ADDR=_address())
    for _ in range(5):
        _sign_in(client, user.username, "wrong")

    assert _sign_in(client, user.username, PASSWORD).status_code == 302
    assert login_throttle._guard.is_down


def _compatibility_spelling(name: str, variant: int) -> str:
    """`name` with the letters picked by `variant`'s bits in their fullwidth form (U+FF41 for a):
    another string, which Django's login form folds back to `name` (NFKC) before checking."""
    return "".join(
        chr(ord(c) + 0xFEE0) if c.isalpha() and variant >> (i % 8) & 1 else c
        for i, c in enumerate(name)
    )


def test_the_account_limit_holds_for_fullwidth_spellings_of_the_name():
    user = _user()
    spellings = {_compatibility_spelling(user.username, variant) for variant in (1, 2, 4)}
    assert len(spellings) == 3 and user.username not in spellings
    for spelling in spellings:
        # Each is the same account to the form: a wrong password fails as one for the user.
        assert _sign_in(Client(REMOTE_ADDR=_address()), spelling, "wrong").status_code == 200

    elsewhere = Client(REMOTE_ADDR=_address())
    response = _sign_in(elsewhere, user.username, PASSWORD)

    assert response.status_code == 429
    assert not _signed_in(elsewhere)


class _ParallelGuesses:
    """An authentication backend for which every password is wrong, and which holds each check
    until every attempt of the burst has either reached it or been refused: what a burst of
    sign-ins sent at once looks like while password hashing keeps them all in flight."""

    burst = 0
    checked = 0
    refused = 0
    lock = threading.Condition()

    def authenticate(self, request, username=None, password=None, **kwargs):
        cls = _ParallelGuesses
        with cls.lock:
            cls.checked += 1
            cls.lock.notify_all()
            cls.lock.wait_for(lambda: cls.checked + cls.refused >= cls.burst, timeout=20)
        return None

    def get_user(self, user_id):
        return None


def test_a_burst_of_parallel_guesses_gets_no_more_checks_than_the_limit(settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}._ParallelGuesses"]
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = "100/min"
    guesses = _ParallelGuesses
    guesses.burst, guesses.checked, guesses.refused = 8, 0, 0
    username = f"user-{uuid.uuid4().hex[:10]}"
    statuses: list[int] = []

    def guess() -> None:
        try:
            status = _sign_in(Client(REMOTE_ADDR=_address()), username, "guess").status_code
            with guesses.lock:
                statuses.append(status)
                if status == 429:
                    guesses.refused += 1
                    guesses.lock.notify_all()
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(guesses.burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # The limit is 3 failures a minute: the other 5 guesses are refused before any check.
    assert guesses.checked == 3
    assert sorted(statuses) == [200] * 3 + [429] * 5
