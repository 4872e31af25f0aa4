"""seed_demo: the demo workspace a newcomer gets from scripts/run."""

from io import StringIO

import pytest
from django.core.management import call_command

from automations.management.commands.seed_demo import EXAMPLE_NOTE
from automations.models import Automation

pytestmark = pytest.mark.django_db

# The examples of the API guide (seed/automation-api.md) that the demo copies.
SEED_EXAMPLES = {
    "Welcome email for new contacts",
    "High-value deal notification",
    "Create follow-up on stage change",
    "Daily deals summary",
}


@pytest.fixture
def seed(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo keeps its plain API key there

    def run() -> str:
        out = StringIO()
        call_command("seed_demo", workspace="demo-test", stdout=out)
        return out.getvalue()

    return run


def _demo_automations():
    return Automation.objects.filter(workspace__slug="demo-test")


def test_the_copies_of_the_seed_examples_are_disabled_and_say_why(seed):
    output = seed()

    copies = _demo_automations().filter(name__in=SEED_EXAMPLES)
    assert set(copies.values_list("name", flat=True)) == SEED_EXAMPLES
    assert [a.name for a in copies if a.enabled] == []
    assert all(a.description.startswith(EXAMPLE_NOTE) for a in copies)
    assert "disabled" in output


def test_only_the_button_automation_is_enabled(seed):
    seed()

    enabled = _demo_automations().filter(enabled=True)
    assert [(a.name, a.trigger_type) for a in enabled] == [("Mark contact as contacted", "manual")]


def test_seeding_again_adds_nothing_and_leaves_a_user_s_choice_alone(seed):
    seed()
    welcome = _demo_automations().get(name="Welcome email for new contacts")
    Automation.objects.filter(pk=welcome.pk).update(enabled=True)  # the user tried it

    output = seed()

    assert _demo_automations().count() == len(SEED_EXAMPLES) + 1
    assert _demo_automations().get(pk=welcome.pk).enabled is True
    assert output.splitlines()[1].startswith("API key: ")
