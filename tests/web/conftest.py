import pytest
from django.test import Client

from automations.runtime import matching


@pytest.fixture(autouse=True)
def _fresh_matching_index():
    # A `db` test never commits, so the index is never invalidated by the services: start clean.
    matching.clear()
    yield
    matching.clear()


@pytest.fixture(autouse=True)
def _no_broker(published_runs):
    """Nothing is published in these tests; runs stay pending where the views can show them."""
    return published_runs


@pytest.fixture
def web(tenant) -> Client:
    """A browser session of the tenant's owner."""
    client = Client()
    client.force_login(tenant.user)
    return client


@pytest.fixture
def other_web(other_tenant) -> Client:
    client = Client()
    client.force_login(other_tenant.user)
    return client
