import pytest

from automations.runtime import matching


@pytest.fixture(autouse=True)
def _fresh_matching_index():
    matching.clear()
    yield
    matching.clear()


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("automations.runtime.runs.publish", lambda run_id, **kwargs: True)
