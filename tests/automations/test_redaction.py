"""The one redaction policy: what each of its callers hides, and that no rule shows what
another hides."""

import pytest

from automations.redaction import (
    NEVER_STORED_HEADERS,
    REDACTED,
    is_secret_name,
    redacted_config,
    redacted_trigger_data,
    stored_headers,
)


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "X-Webhook-Secret",
        "access_token",
        "Password",
        "db_passwd",
        "api_key",
        "X-Api-Key",
        "apikey",
        "Set-Cookie",
        "Webhook-Signature",
    ],
)
def test_secret_looking_names_are_recognised_in_any_case(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["Content-Type", "X-Order", "url", "method", "keyboard"])
def test_ordinary_names_are_not_secret(name):
    assert not is_secret_name(name)


def test_every_header_never_stored_is_also_masked_if_it_was_stored():
    assert all(is_secret_name(name) for name in NEVER_STORED_HEADERS)


def test_a_logged_config_hides_non_empty_secrets_at_any_depth():
    config = {
        "url": "https://example.com",
        "headers": {"Authorization": "Bearer x", "X-Token": "", "Accept": "*/*"},
        "body": [{"api_key": "k", "name": "Ada"}],
    }

    assert redacted_config(config) == {
        "url": "https://example.com",
        "headers": {"Authorization": REDACTED, "X-Token": "", "Accept": "*/*"},
        "body": [{"api_key": REDACTED, "name": "Ada"}],
    }


def test_the_credentials_of_a_delivery_are_not_stored():
    headers = {
        "authorization": "Bearer x",
        "proxy-authorization": "Basic y",
        "cookie": "s=1",
        "x-api-key": "k",
        "webhook-signature": "v1,abc",
        "x-request-id": "42",
    }

    assert stored_headers(headers) == {"x-request-id": "42"}


def test_trigger_data_masks_secret_headers_and_always_has_record_id_and_event():
    data = redacted_trigger_data(
        {"webhook": {"headers": {"X-Hub-Signature": "sha256=1", "X-Order": "42"}, "body": {}}}
    )

    assert data == {
        "record_id": None,
        "event": None,
        "webhook": {"headers": {"X-Hub-Signature": REDACTED, "X-Order": "42"}, "body": {}},
    }
