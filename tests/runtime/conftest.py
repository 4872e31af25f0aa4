import pytest

from automations.runtime import matching


@pytest.fixture(autouse=True)
def _fresh_matching_index():
    # Ids repeat across tests on SQLite: never let one test's index serve another.
    matching.clear()
    yield
    matching.clear()


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """No broker in these tests: record what would be published; tests run runs with drain()."""
    sent: list[tuple[str, float | None]] = []

    def fake_publish(run_id: str, *, countdown: float | None = None, force: bool = False) -> bool:
        sent.append((run_id, countdown))
        return True

    def fake_publish_many(run_ids: list[str], *, force: bool = False) -> bool:
        sent.extend((run_id, None) for run_id in run_ids)
        return True

    monkeypatch.setattr("automations.runtime.runs.publish", fake_publish)
    monkeypatch.setattr("automations.runtime.relay.publish_many", fake_publish_many)
    return sent


@pytest.fixture(autouse=True)
def _engine_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = True
    settings.AUTOMATIONS_RETRY_DELAYS = [60.0, 300.0, 1800.0]
    return settings
