import pytest

from automations.runtime import matching


@pytest.fixture(autouse=True)
def _fresh_matching_index():
    matching.clear()
    yield
    matching.clear()


@pytest.fixture(autouse=True)
def _no_broker(published_runs):
    """Nothing is published in these tests; runs stay pending where the admin shows them."""
    return published_runs
