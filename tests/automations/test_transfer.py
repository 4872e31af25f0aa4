"""Export and import of automations (automations.transfer) and the manage.py commands."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from automations.models import Automation
from automations.transfer import (
    FORMAT,
    export_document,
    import_automations,
    parse_document,
)
from config.errors import ValidationFailed
from records.services import module_create
from tests.web.helpers import make_automation

pytestmark = pytest.mark.django_db

PARTS = {"name", "description", "trigger", "conditions", "actions", "error_handling", "timezone"}


def _document(*automations: dict) -> str:
    return json.dumps({"format": FORMAT, "version": 1, "automations": list(automations)})


def test_the_export_is_versioned_and_holds_only_the_definition(tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)

    document = export_document([automation])

    assert (document["format"], document["version"]) == ("crm-automations", 1)
    (exported,) = document["automations"]
    assert set(exported) == PARTS
    assert exported["name"] == "Welcome" and exported["trigger"]["module"] == "contacts"


def test_export_then_import_into_another_workspace_makes_a_disabled_twin(tenant, other_tenant):
    automation = make_automation(tenant, name="Welcome", enabled=True)
    text = json.dumps(export_document([automation]))

    (imported,) = import_automations(
        workspace=other_tenant.workspace, automations=parse_document(text), user=None
    )

    assert imported.workspace == other_tenant.workspace and imported.id != automation.id
    assert imported.enabled is False and imported.version == 1
    assert imported.module == other_tenant.module("contacts")
    assert (imported.trigger, imported.actions) == (automation.trigger, automation.actions)


def test_ids_secrets_and_the_enabled_flag_are_never_imported(tenant):
    item = {
        "id": "auto_stolen",
        "enabled": True,
        "webhook_secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "name": "Hook",
        "trigger": {"type": "webhook", "webhook_path": "in"},
        "actions": [{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}],
    }

    (imported,) = import_automations(
        workspace=tenant.workspace, automations=parse_document(_document(item)), user=None
    )

    assert imported.id != "auto_stolen"
    assert (imported.enabled, imported.webhook_secret) == (False, "")


def test_a_missing_module_is_a_problem_naming_it_and_nothing_is_imported(tenant):
    good = {"name": "Fine", "trigger": {"type": "record.created", "module": "contacts"}}
    good["actions"] = [{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}]
    bad = {**good, "name": "Needs projects", "trigger": {"type": "manual", "module": "projects"}}

    with pytest.raises(ValidationFailed) as exc:
        import_automations(
            workspace=tenant.workspace, automations=parse_document(_document(good, bad)), user=None
        )

    assert "projects" in exc.value.details["automations[1].trigger.module"][0]
    assert not Automation.objects.exists()


def test_a_custom_module_is_mapped_by_its_slug(tenant, other_tenant):
    module_create(workspace=other_tenant.workspace, slug="projects", name="Projects")
    item = {
        "name": "Projects",
        "trigger": {"type": "manual", "module": "projects"},
        "actions": [{"type": "delay", "config": {"duration": 1, "unit": "minutes"}}],
    }

    (imported,) = import_automations(
        workspace=other_tenant.workspace, automations=parse_document(_document(item)), user=None
    )

    assert imported.module.slug == "projects"
    assert imported.module.workspace == other_tenant.workspace


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("{nope", "", "not a JSON document"),
        (json.dumps({"format": "zapier", "automations": []}), "format", "not an automations"),
        (json.dumps({"format": FORMAT, "version": 2, "automations": [{}]}), "version", "2"),
        (json.dumps({"format": FORMAT, "version": 1, "automations": []}), "automations", "no"),
        (json.dumps({"format": FORMAT, "version": 1, "automations": [3]}), "automations[0]", ""),
    ],
)
def test_files_of_another_format_or_version_are_refused_clearly(text, path, words):
    with pytest.raises(ValidationFailed) as exc:
        parse_document(text)

    assert words in exc.value.details[path][0]


def test_the_commands_move_automations_between_workspaces(tenant, other_tenant, tmp_path):
    first = make_automation(tenant, name="One")
    make_automation(tenant, name="Two")
    out = tmp_path / "export.json"

    call_command(
        "export_automations",
        "--workspace",
        tenant.workspace.slug,
        "--id",
        first.id,
        "--output",
        str(out),
        stderr=io.StringIO(),
    )
    stdout = io.StringIO()
    call_command(
        "import_automations",
        "--workspace",
        other_tenant.workspace.slug,
        str(out),
        stdout=stdout,
        stderr=io.StringIO(),
    )

    (imported,) = Automation.objects.filter(workspace=other_tenant.workspace)
    assert imported.name == "One" and not imported.enabled
    assert stdout.getvalue() == f"{imported.id}\tOne\n"


def test_export_writes_all_of_a_workspace_to_stdout(tenant):
    make_automation(tenant, name="One")
    make_automation(tenant, name="Two")
    stdout = io.StringIO()

    call_command("export_automations", "--workspace", tenant.workspace.slug, stdout=stdout)

    names = [a["name"] for a in json.loads(stdout.getvalue())["automations"]]
    assert names == ["One", "Two"]


def test_export_of_an_unknown_id_or_workspace_fails(tenant):
    with pytest.raises(CommandError, match="auto_nope"):
        call_command(
            "export_automations", "--workspace", tenant.workspace.slug, "--id", "auto_nope"
        )
    with pytest.raises(CommandError, match="no workspace"):
        call_command("export_automations", "--workspace", "nowhere")


def test_import_prints_every_problem_and_imports_nothing(tenant, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(_document({"name": "", "trigger": {"type": "manual", "module": "projects"}}))

    with pytest.raises(CommandError) as exc:
        call_command("import_automations", "--workspace", tenant.workspace.slug, str(path))

    assert "nothing was imported" in str(exc.value)
    assert "automations[0].trigger.module" in str(exc.value)
    assert not Automation.objects.exists()
