"""Headless Chromium (Debian's, not Playwright's download) against pytest-django's live_server,
with the e2e suite's real in-process Celery worker where a test needs runs to execute."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accounts.models import Membership
from accounts.services import membership_ensure, user_get_or_create, workspace_create
from tests.e2e.conftest import (  # noqa: F401  (reused fixtures)
    _private_filesystem_broker,
    celery_worker,
    engine_settings,
)

# Sync Playwright runs an event loop in this thread; the ORM calls of the tests are still
# synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def shot():
    """Save a full-page screenshot under test-artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


class Owner:
    def __init__(self) -> None:
        self.workspace = workspace_create(slug="acme", name="Acme")
        self.user, _ = user_get_or_create(email="owner@acme.example")
        self.user.set_password(PASSWORD)
        self.user.save()
        membership_ensure(workspace=self.workspace, user=self.user, role=Membership.Role.OWNER)

    def module(self, slug: str):
        return self.workspace.modules.get(slug=slug)


@pytest.fixture
def owner(transactional_db) -> Owner:
    return Owner()


@pytest.fixture
def app(page, live_server, owner):
    """A page signed in through the login form; `app.go(path)` opens a path of the app."""
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(owner.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/automations/")

    class App:
        url = live_server.url

        def go(self, path: str) -> None:
            page.goto(f"{live_server.url}{path}")

    return App()
