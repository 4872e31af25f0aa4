import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import (
    api_key_create,
    membership_ensure,
    user_get_or_create,
    workspace_create,
)


class PublishedRuns(list):
    """What was handed over to the workers through automations.runtime.handover.publish, as
    (run id, countdown) pairs in order; `batches` holds the run ids of each publish() call.
    While `reachable` is False, publish() fails as with the broker down, and records nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.reachable = True

    def publish(
        self, run_ids: list[str], *, countdown: float | None = None, force: bool = False
    ) -> bool:
        if not self.reachable:
            return False
        self.batches.append(list(run_ids))
        self.extend((run_id, countdown) for run_id in run_ids)
        return True


@pytest.fixture
def published_runs(monkeypatch) -> PublishedRuns:
    """No broker: the one hand-over seam (handover.publish) records what it would publish, and
    the runs stay in the database for a test to execute (tests.runtime.support.drain)."""
    from automations.runtime import handover

    published = PublishedRuns()
    monkeypatch.setattr(handover, "publish", published.publish)
    return published


class Tenant:
    """A workspace with an owner, an API key and a client that sends it."""

    def __init__(self, slug: str) -> None:
        self.workspace = workspace_create(slug=slug, name=slug.title())
        self.user, _ = user_get_or_create(email=f"owner@{slug}.example")
        membership_ensure(workspace=self.workspace, user=self.user, role=Membership.Role.OWNER)
        self.api_key, self.key = api_key_create(workspace=self.workspace, user=self.user)
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")

    def module(self, slug: str):
        return self.workspace.modules.get(slug=slug)


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant("acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant("globex")


@pytest.fixture
def api(tenant) -> APIClient:
    return tenant.client


@pytest.fixture(scope="session", autouse=True)
def _fresh_redis_db():
    """Start each session with an empty Redis database (broker queues and cache)."""
    from django.conf import settings

    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _fresh_local_caches():
    """Empty the caches of the zero-setup defaults before each test.

    Without Redis the Django cache is in-process (LocMemCache) and the engine's matching-index
    versions and list totals live in files under VAR_DIR (FileBasedCache); both outlive a test.
    Rate-limit counters and cached totals would leak into the next test, and on SQLite the next
    test may even get the same primary keys (a rolled-back id is reused), so it would read the
    previous test's values as its own. Redis runs need nothing: each session starts on a
    flushed database and PostgreSQL never reuses an id.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache
    from django.core.cache.backends.locmem import LocMemCache

    for alias in settings.CACHES:
        backend = caches[alias]
        if isinstance(backend, LocMemCache | FileBasedCache):
            backend.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """On SQLite, test in a file rather than in memory: tests with a real Celery worker (a
    thread or another process) need a database other connections can share with locking."""
    import os
    import tempfile

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = os.path.join(tempfile.gettempdir(), f"test_automations_{os.getpid()}.sqlite3")
        database.setdefault("TEST", {})["NAME"] = name
