"""The retry policy and crash errors of automations.runtime.outcome (no database needed)."""

import pytest
from django.db import OperationalError

from automations.actions import ActionError
from automations.runtime.outcome import crash_error, max_retries, retry_delay


@pytest.fixture(autouse=True)
def _delays(settings):
    settings.AUTOMATIONS_RETRY_DELAYS = [1.0, 5.0, 30.0]


def test_a_passing_error_is_retried_after_each_configured_delay_in_turn():
    error = ActionError("webhook_failed", "503")

    assert [retry_delay(error, tries_before=n) for n in range(3)] == [1.0, 5.0, 30.0]


def test_a_passing_error_fails_the_run_once_every_retry_was_spent():
    assert max_retries() == 3
    assert retry_delay(ActionError("webhook_failed", "503"), tries_before=3) is None


def test_a_permanent_error_is_never_retried():
    assert retry_delay(ActionError("invalid_config", "bad", permanent=True), tries_before=0) is None


def test_a_crash_is_permanent_unless_the_database_or_network_may_pass():
    assert crash_error(ValueError("x")).permanent
    assert crash_error(RecursionError()).permanent
    assert not crash_error(OperationalError("gone")).permanent
    assert not crash_error(ConnectionResetError()).permanent
    assert crash_error(KeyError("k")).code == "action_crashed"
