"""send_email through Django's email backend (locmem here; real SMTP in tests/e2e)."""

import pytest
from django.core import mail

from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db


def _email(tenant, config, **kw):
    return make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "send_email", "config": config}],
        **kw,
    )


def test_a_template_renders_with_data_at_the_top_level_and_the_record(tenant):
    automation = _email(
        tenant,
        {
            "to": "{{record.email}}",
            "template": "welcome_email",
            "data": {"first_name": "{{record.first_name}}", "company": "{{record.company}}"},
        },
    )
    make_record(
        tenant, "contacts", name="Ada L", first_name="Ada", company="Acme", email="ada@example.com"
    )
    drain()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Welcome, Ada!"
    assert "Hi Ada," in message.body and "with Acme" in message.body
    run = runs_of(automation)[0]
    assert message.extra_headers["Message-ID"] == f"<{run.id}.0@localhost>"
    assert run.action_runs.get().output["template"] == "welcome_email"


def test_subject_and_body_are_rendered(tenant):
    _email(
        tenant,
        {
            "to": "{{record.email}}",
            "subject": "Welcome to our platform",
            "body": "Hi {{record.first_name}},\n\nThank you for signing up!",
        },
    )
    make_record(tenant, "contacts", name="Ada", first_name="Ada", email="ada@example.com")
    drain()
    [message] = mail.outbox
    assert message.subject == "Welcome to our platform"
    assert message.body == "Hi Ada,\n\nThank you for signing up!"


def test_a_recipient_with_a_line_break_is_refused(tenant):
    automation = _email(tenant, {"to": "{{record.name}}", "subject": "s", "body": "b"})
    make_record(tenant, "contacts", name="a@example.com\r\nBcc: evil@example.com")
    drain()
    assert mail.outbox == []
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("failed", "email_delivery_failed")
    assert "line break" in run.error_message


def test_a_subject_with_line_breaks_is_flattened(tenant):
    _email(tenant, {"to": "x@example.com", "subject": "Hi {{record.name}}", "body": "b"})
    make_record(tenant, "contacts", name="Ada\r\nBcc: evil@example.com")
    drain()
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.recipients() == ["x@example.com"]


def test_an_empty_recipient_fails_permanently(tenant):
    automation = _email(tenant, {"to": "{{record.email}}", "subject": "s", "body": "b"})
    make_record(tenant, "contacts", name="No email")
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code, run.attempts) == ("failed", "email_delivery_failed", 1)


def test_a_smtp_outage_is_retried(tenant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    automation = _email(tenant, {"to": "a@example.com", "subject": "s", "body": "b"})
    make_record(tenant, "contacts", name="Ada")
    drain()
    run = runs_of(automation)[0]
    assert (run.status, run.error_code) == ("retrying", "email_delivery_failed")


@pytest.mark.parametrize(
    "backend, expected",
    [
        ("django.core.mail.backends.smtp.EmailBackend", 14.0),  # connect + send, 7 s each
        ("myproject.mail.RelayBackend", 14.0),  # any other backend may talk to a server too
        ("django.core.mail.backends.filebased.EmailBackend", 0.0),  # waits on nothing
        ("django.core.mail.backends.locmem.EmailBackend", 0.0),
    ],
)
def test_a_run_sending_email_holds_its_lease_for_twice_the_smtp_timeout(
    settings, backend, expected
):
    from automations.actions.send_email import SendEmail

    settings.EMAIL_BACKEND, settings.EMAIL_TIMEOUT = backend, 7
    assert SendEmail().max_seconds({"to": "a@example.com"}) == expected
