"""A client generated from /v1/schema works: openapi-python-client (offline, as a subprocess)
writes a Python client from the schema, and the test imports it and calls a live server
(pytest-django's live_server) with it: automations, a dry run, the manual trigger, logs and
records, checking the values of the models it parses (a generated client reads every response
by the schema: a missing key, a null the schema does not allow or a wrong type fails here)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.openapi_contract import load_schema
from tests.factories import make_record
from tests.runtime.conftest import _fresh_matching_index, published
from tests.runtime.support import drain, make_automation

PACKAGE = "crm_schema_client"
# The engine's fixtures: a fresh matching index per test and no broker (runs are drained here).
__all__ = ["_fresh_matching_index", "published"]
pytestmark = pytest.mark.usefixtures("_fresh_matching_index", "published")


@pytest.fixture(scope="module")
def client_package(tmp_path_factory, django_db_setup, django_db_blocker) -> Any:
    """The generated package, imported."""
    with django_db_blocker.unblock():
        schema = load_schema()
    where = tmp_path_factory.mktemp("generated")
    (where / "schema.json").write_text(json.dumps(schema))
    (where / "config.yml").write_text(
        f"package_name_override: {PACKAGE}\nproject_name_override: crm-schema-client\n"
    )
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            "schema.json",
            "--config",
            "config.yml",
            "--meta",
            "none",
        ],
        cwd=where,
        # Its post-generation step runs ruff, installed beside it; no network is used.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # A schema piece the generator cannot read is skipped with a warning: none may be.
    assert "Warning" not in output, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(package: Any, tag: str, operation: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")


def _models(package: Any) -> Any:
    return importlib.import_module(f"{package.__name__}.models")


@pytest.fixture
def engine(settings):
    settings.API_RATE_LIMIT = ""


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_reads_real_answers(client_package, live_server, tenant, engine):
    models = _models(client_package)
    client = client_package.AuthenticatedClient(
        base_url=live_server.url, token=tenant.key, raise_on_unexpected_status=True
    )
    ann = make_record(tenant, "contacts", name="Ann", email="ann@example.com")
    broken = make_automation(
        tenant,
        name="Broken",
        trigger={"type": "manual", "module": "contacts"},
        actions=[
            {
                "type": "update_record",
                "config": {
                    "record": "related",
                    "module": "accounts",
                    "record_id": "rec_missing1",
                    "updates": {"status": "x"},
                },
            }
        ],
        error_handling={"disable_after_failures": 1},
    )

    # Create through the client: typed request models, a group of conditions.
    body = models.AutomationInSchema.from_dict(
        {
            "name": "Qualify",
            "enabled": True,
            "trigger": {"type": "manual", "module": "contacts"},
            "conditions": {"any": [{"field": "email", "operator": "is_not_empty"}]},
            "actions": [{"type": "update_record", "config": {"updates": {"status": "qualified"}}}],
        }
    )
    created = _api(client_package, "automations", "automations_create").sync(
        client=client, body=body
    )
    assert isinstance(created, models.AutomationCreated), created
    automation = created.data
    assert automation.name == "Qualify"
    assert automation.enabled is True
    assert automation.disabled_reason is None
    assert isinstance(automation.conditions, models.ConditionAnyGroup)
    assert automation.conditions.any_[0].operator == "is_not_empty"

    # Trigger both; the real executor runs them (the broken one trips the breaker).
    trigger = _api(client_package, "automations", "automations_trigger")
    queued = trigger.sync(
        automation.id, client=client, body=models.TriggerInSchema(record_id=ann.id)
    )
    assert queued.data.status == "pending"
    trigger.sync(broken.id, client=client, body=models.TriggerInSchema(record_id=ann.id))
    drain()

    retrieve = _api(client_package, "automations", "automations_retrieve")
    tripped = retrieve.sync(broken.id, client=client).data
    assert isinstance(tripped.disabled_reason, models.DisabledReasonSchema)
    assert tripped.disabled_reason.code == "automation_disabled"
    assert tripped.disabled_reason.last_error == "record_not_found"
    assert tripped.enabled is False

    page = _api(client_package, "automations", "automations_list").sync(client=client, per_page=50)
    assert page.meta.total == 2
    by_id = {a.id: a for a in page.data}
    assert by_id[automation.id].disabled_reason is None
    assert by_id[broken.id].disabled_reason.message.startswith("Automation disabled after 1")

    # Logs: a success with its action, and a failure with the action's error.
    logs = _api(client_package, "automations", "automations_logs")
    ok = logs.sync(automation.id, client=client).data
    assert [run.id for run in ok] == [queued.data.log_id]
    assert ok[0].status == models.RunStatusEnum.SUCCESS
    assert ok[0].conditions_evaluated[0].passed is True
    assert ok[0].trigger_data.record.id == ann.id
    assert ok[0].actions_executed[0].type_ == "update_record"
    failed = logs.sync(broken.id, client=client).data[0]
    assert failed.status == models.RunStatusEnum.FAILED
    assert failed.actions_executed[0].error_code == "record_not_found"

    # Dry run: conditions and previews.
    dry = _api(client_package, "automations", "automations_test").sync(
        automation.id, client=client, body=models.DryRunInSchema(record_id=ann.id)
    )
    assert dry.data.would_execute is True
    assert dry.data.conditions_evaluated[0].actual_value == "ann@example.com"
    preview = dry.data.actions_preview[0]
    assert preview.type_ == models.ActionTypeEnum.UPDATE_RECORD
    assert preview.config["updates"] == {"status": "qualified"}

    # Records: flat dicts, the module's fields as additional properties.
    records_list = _api(client_package, "records", "records_list")
    listed = records_list.sync("contacts", client=client)
    assert [r.id for r in listed.data] == [ann.id]
    assert listed.data[0]["status"] == "qualified"  # the run's update_record
    made = _api(client_package, "records", "records_create").sync(
        "contacts",
        client=client,
        body=models.RecordsCreateBody.from_dict({"name": "Bob", "email": "bob@example.com"}),
    )
    assert made.data.module == "contacts"
    assert made.data["email"] == "bob@example.com"

    # An error answer parses as the error shape.
    missing = retrieve.sync("auto_missing", client=client)
    assert isinstance(missing, models.ErrorResponse)
    assert missing.error.code == "not_found"
