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
    """No broker: record what would be published instead of sending it."""
    sent: list[str] = []

    def fake_publish(run_id: str, *, countdown: float | None = None, force: bool = False) -> bool:
        sent.append(run_id)
        return True

    monkeypatch.setattr("automations.runtime.runs.publish", fake_publish)
    monkeypatch.setattr("automations.runtime.relay.publish", fake_publish)
    return sent


@pytest.fixture(autouse=True)
def _security_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUTOMATIONS_ALLOW_PRIVATE_URLS = False
    return settings
