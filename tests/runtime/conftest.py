import pytest

from automations.runtime import matching


@pytest.fixture(autouse=True)
def _fresh_matching_index():
    # Ids repeat across tests on SQLite: never let one test's index serve another.
    matching.clear()
    yield
    matching.clear()


@pytest.fixture(autouse=True)
def published(published_runs):
    """No broker in these tests: what would be published is recorded (tests.conftest
    .PublishedRuns); tests run runs with drain()."""
    return published_runs


@pytest.fixture(autouse=True)
def _engine_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    settings.AUTOMATIONS_RETRY_DELAYS = [60.0, 300.0, 1800.0]
    return settings
