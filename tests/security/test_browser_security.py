"""Security headers, HTTPS-only settings behind a TLS proxy, and what /healthz tells the
anonymous (issue 15, item 12). The builder under the CSP in a real browser:
tests/browser/test_content_security_policy.py."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from config import env
from config.celery import app as celery_app
from config.csp import POLICY
from tests.runtime.support import make_automation

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PROXY = {"HTTP_X_FORWARDED_PROTO": "https"}


class InlineCode(HTMLParser):
    """What a strict CSP blocks in a page: inline scripts, <style>, style and on* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        data = dict(attrs)
        if tag == "script" and "src" not in names and data.get("type") != "application/json":
            self.found.append(f"inline <script> {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        for name in names:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")


def _inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def staff(tenant) -> Client:
    tenant.user.is_staff = tenant.user.is_superuser = True
    tenant.user.save()
    client = Client()
    client.force_login(tenant.user)
    return client


def test_every_kind_of_response_carries_the_policy(staff, api):
    for response in (
        Client().get("/login/"),
        staff.get("/automations/"),
        staff.get("/admin/"),
        Client().get("/v1/docs"),
        api.get("/v1/modules"),
        Client().get("/healthz"),
    ):
        assert response["Content-Security-Policy"] == POLICY
    assert "unsafe-inline" not in POLICY and "unsafe-eval" not in POLICY
    assert "script-src 'self'" in POLICY and "frame-ancestors 'none'" in POLICY


def test_the_pages_hold_nothing_the_policy_would_block(staff, tenant):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}],
    )
    pages = [
        "/login/",
        "/automations/",
        "/automations/new",
        f"/automations/{automation.id}/",
        f"/automations/{automation.id}/test",
        f"/automations/{automation.id}/logs",
        "/records/",
        "/records/contacts/",
        "/records/contacts/new",
        "/notifications/",
        "/settings/api-keys/",
        "/admin/",
        "/admin/automations/automation/",
        f"/admin/automations/automation/{automation.id}/change/",
        "/admin/accounts/workspace/add/",
    ]
    found = {}
    for path in pages:
        client = Client() if path == "/login/" else staff
        response = client.get(path)
        assert response.status_code == 200, path
        if problems := _inline_code(response.content.decode()):
            found[path] = problems
    docs = Client().get("/v1/docs")
    found["/v1/docs"] = _inline_code(docs.content.decode())
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_the_swagger_uis_start_up_script_is_a_file(db):
    docs = Client().get("/v1/docs").content.decode()
    assert "/v1/docs?script" in docs

    script = Client().get("/v1/docs?script")

    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_swagger_ui_shows_no_third_party_validator_badge(db):
    """Served from any host but localhost, Swagger UI adds an <img> from validator.swagger.io
    (its default validatorUrl) with the schema's URL in it: the policy's img-src blocks it (a
    violation on every docs page in production) and the URL would go to a third party. The
    page's settings must turn the badge off (Swagger UI shows none for a null validatorUrl)."""
    script = Client().get("/v1/docs?script").content.decode()

    declared = script.split("const swaggerSettings = ", 1)[1].split(";\n", 1)[0]

    assert "validatorUrl" in json.loads(declared)
    assert json.loads(declared)["validatorUrl"] is None


def _settings_with(**environ: str) -> dict:
    """Settings as a fresh process reads them from this environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'HTTPS_ONLY')}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "HTTPS_"))}
    base.pop("PUBLIC_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **environ},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_https_public_url_behind_a_proxy_turns_the_https_settings_on():
    on = _settings_with(
        PUBLIC_BASE_URL="https://crm.example.com",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
    )
    assert on == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "HTTPS_ONLY": True,
    }
    # The zero-setup default (plain HTTP on 127.0.0.1) keeps them off, or nothing would work.
    off = _settings_with()
    assert not off["SESSION_COOKIE_SECURE"] and not off["SECURE_SSL_REDIRECT"]
    assert off["SECURE_HSTS_SECONDS"] == 0 and off["SECURE_PROXY_SSL_HEADER"] is None


def test_the_proxy_header_setting_fails_loudly_on_a_bad_value(monkeypatch):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    with pytest.raises(env.ImproperlyConfiguredEnv, match="SECURE_PROXY_SSL_HEADER"):
        env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    assert env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )


@pytest.fixture
def behind_tls(settings):
    """The settings the HTTPS test above showed for an https PUBLIC_BASE_URL behind a proxy."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def test_behind_tls_the_session_cookie_is_secure_and_hsts_is_sent(behind_tls, tenant):
    tenant.user.set_password("correct-horse-battery")
    tenant.user.save()

    response = Client().post(
        "/login/",
        {"username": tenant.user.username, "password": "correct-horse-battery"},
        **PROXY,
    )

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"]
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_tls_plain_http_is_redirected_but_healthz_is_not(behind_tls, db):
    page = Client().get("/login/")
    health = Client().get("/healthz")

    assert page.status_code == 301 and page["Location"].startswith("https://")
    assert health.status_code == 200


@pytest.fixture
def broker_down(monkeypatch):
    """A broker URL nothing listens on: the health check's real connection is refused."""
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")


def test_healthz_tells_the_anonymous_only_ok_or_failing(broker_down, db, caplog):
    with caplog.at_level(logging.WARNING, logger="config.health"):
        response = Client().get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body == {
        "status": "degraded",
        "database": {"ok": True, "detail": "ok"},
        "broker": {"ok": False, "detail": "failing"},
    }
    assert "127.0.0.1" not in response.content.decode()
    assert ":9" not in response.content.decode()
    assert "broker failing" in caplog.text  # the operator still finds why in the logs


def test_healthz_shows_staff_the_error(broker_down, staff):
    body = staff.get("/healthz").json()

    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"] not in ("ok", "failing")


def test_healthz_shows_a_signed_in_non_staff_user_only_ok_or_failing(broker_down, tenant):
    client = Client()
    client.force_login(tenant.user)
    assert get_user_model().objects.get(pk=tenant.user.pk).is_staff is False

    assert client.get("/healthz").json()["broker"]["detail"] == "failing"
