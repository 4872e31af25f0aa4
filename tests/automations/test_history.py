"""automations.history (restore, duplicate) and automations.version_diff."""

import pytest

from automations.history import automation_duplicate, version_get, version_restore
from automations.models import AutomationVersion
from automations.services import automation_set_enabled, automation_update
from automations.version_diff import definition_diff
from config.errors import ValidationFailed
from tests.web.helpers import make_automation

pytestmark = pytest.mark.django_db

WEBHOOK = {"type": "webhook", "webhook_path": "inbound-leads"}
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_restoring_a_version_saves_it_as_a_new_disabled_version(tenant):
    automation = make_automation(tenant, name="First")
    automation_update(automation=automation, user=tenant.user, data={"name": "Second"})
    automation_set_enabled(automation=automation, enabled=True)

    restored = version_restore(
        automation=automation, version=version_get(automation, 1), user=tenant.user
    )

    assert (restored.name, restored.version, restored.enabled) == ("First", 3, False)
    newest = AutomationVersion.objects.get(automation=automation, version=3)
    assert newest.definition["name"] == "First" and newest.created_by == tenant.user


def test_restoring_the_current_definition_changes_nothing(tenant):
    automation = make_automation(tenant)

    restored = version_restore(
        automation=automation, version=version_get(automation, 1), user=tenant.user
    )

    assert restored.version == 1
    assert automation.versions.count() == 1


def test_a_version_that_no_longer_validates_is_refused_with_its_problem(tenant):
    automation = make_automation(tenant)
    AutomationVersion.objects.filter(automation=automation).update(
        definition={**version_get(automation, 1).definition, "trigger": {"type": "nope"}}
    )

    with pytest.raises(ValidationFailed) as exc:
        version_restore(automation=automation, version=version_get(automation, 1), user=None)

    assert "trigger.type" in (exc.value.details or {})


def test_duplicate_is_a_disabled_copy_named_copy(tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)

    copy = automation_duplicate(automation=automation, user=tenant.user)

    assert copy.id != automation.id
    assert (copy.name, copy.enabled, copy.version) == ("Welcome (copy)", False, 1)
    assert copy.actions == automation.actions and copy.trigger == automation.trigger
    assert copy.created_by == tenant.user


def _webhook(tenant, **parts):
    notify = {
        "type": "send_notification",
        "config": {"user_id": tenant.user.pk, "title": "t", "message": "m"},
    }
    return make_automation(tenant, trigger=WEBHOOK, actions=[notify], **parts)


def test_a_duplicated_webhook_gets_its_own_path_and_secret(tenant):
    automation = _webhook(tenant, webhook_secret=SECRET)

    first = automation_duplicate(automation=automation, user=tenant.user)
    second = automation_duplicate(automation=automation, user=tenant.user)

    assert first.webhook_path == "inbound-leads-copy"
    assert second.webhook_path == "inbound-leads-copy-2"
    assert first.webhook_secret.startswith("whsec_")
    assert len({automation.webhook_secret, first.webhook_secret, second.webhook_secret}) == 3


def test_a_webhook_without_its_own_secret_is_copied_without_one(tenant):
    automation = _webhook(tenant)

    assert automation_duplicate(automation=automation, user=None).webhook_secret == ""


def test_a_long_name_stays_within_the_limit_when_copied(tenant):
    automation = make_automation(tenant, name="x" * 200)

    copy = automation_duplicate(automation=automation, user=None)

    assert len(copy.name) == 200 and copy.name.endswith(" (copy)")


def test_the_diff_marks_the_changed_parts_and_lines():
    left = {"name": "A", "actions": [{"type": "delay", "config": {"duration": 1}}]}
    right = {"name": "A", "actions": [{"type": "delay", "config": {"duration": 2}}]}

    parts = {part.key: part for part in definition_diff(left, right)}

    assert not parts["name"].changed and parts["actions"].changed
    changed = [row for row in parts["actions"].rows if row.kind != "same"]
    assert [(row.left, row.right) for row in changed] == [
        ('      "duration": 1', '      "duration": 2')
    ]


def test_the_diff_shows_added_and_removed_lines_beside_blanks():
    parts = {p.key: p for p in definition_diff({"conditions": []}, {"conditions": [1]})}

    kinds = [row.kind for row in parts["conditions"].rows]
    assert "changed" in kinds or "added" in kinds
    assert parts["conditions"].changed
