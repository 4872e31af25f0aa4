"""The dry run shows each action as the real run does it: one rendering for both."""

import pytest
from django.core import mail

from automations.models import EmailTemplate
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

# Runs of spaces and tabs, and line breaks: a header holds the lines joined by one space.
SUBJECT = "Hello,  \t{{record.first_name}}\n  and\r\nwelcome   aboard"
SENT_SUBJECT = "Hello,  \tAda   and welcome   aboard"


def test_the_dry_run_shows_the_email_subject_the_send_sends(tenant, api):
    EmailTemplate.objects.create(
        workspace=tenant.workspace, name="spaced", subject=SUBJECT, body="Hi {{record.first_name}}"
    )
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[
            {"type": "send_email", "config": {"to": "{{record.email}}", "template": "spaced"}}
        ],
    )
    record = make_record(
        tenant, "contacts", name="Ada L", first_name="Ada", email="ada@example.com"
    )

    response = api.post(
        f"/v1/automations/{automation.id}/test", {"record_id": record.id}, format="json"
    )
    [preview] = response.json()["data"]["actions_preview"]
    drain()

    [message] = mail.outbox
    assert message.subject == SENT_SUBJECT
    assert preview["email"] == {"subject": SENT_SUBJECT, "body": "Hi Ada"}
    assert runs_of(automation)[0].action_runs.get().output["subject"] == SENT_SUBJECT


def test_a_missing_email_template_previews_as_the_error_the_send_fails_with(tenant, api):
    EmailTemplate.objects.create(workspace=tenant.workspace, name="gone", subject="s", body="b")
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[{"type": "send_email", "config": {"to": "{{record.email}}", "template": "gone"}}],
    )
    record = make_record(tenant, "contacts", name="Ada", email="ada@example.com")
    EmailTemplate.objects.filter(name="gone").delete()

    response = api.post(
        f"/v1/automations/{automation.id}/test", {"record_id": record.id}, format="json"
    )
    [preview] = response.json()["data"]["actions_preview"]
    drain()

    [run] = runs_of(automation)
    assert preview["error"] == {
        "code": run.error_code,
        "message": "email template 'gone' not found",
    }
    assert run.error_message == "email template 'gone' not found"
