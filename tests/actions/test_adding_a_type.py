"""Adding an action type follows the README's steps ("How to add an action type"): one class,
one registry entry. A throwaway type added that way is validated at save time through the API,
shown by the dry run through the default preview, and executed by a real run."""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from automations.actions import ACTIONS, Action, ActionContext, Done, Park
from automations.models import Automation
from automations.runtime import matching
from automations.validation import (
    DefinitionContext,
    Problems,
    required_string,
    unknown_keys,
)
from tests.factories import make_record
from tests.runtime.support import drain, runs_of

pytestmark = pytest.mark.django_db


class Stamp(Action):
    """Step 1: everything about the type in one class (a module of its own in the app)."""

    type = "stamp"
    label = "Stamp a note"
    transactional = True  # writes nothing outside this database

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        return unknown_keys(config, {"note"}, path) + required_string(config, "note", path)

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "note": config["note"].strip()}

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
        return Done({"stamped": config["note"]})


@pytest.fixture
def stamp() -> Iterator[Stamp]:
    """Step 2: one registry entry (here for this test only)."""
    action = Stamp()
    ACTIONS[action.type] = action
    try:
        yield action
    finally:
        del ACTIONS[action.type]


def _create(api, config: dict[str, Any]):
    return api.post(
        "/v1/automations",
        {
            "name": "Stamped",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [{"type": "stamp", "config": config}],
        },
        format="json",
    )


def test_without_its_registry_entry_the_type_is_unknown(api):
    response = _create(api, {"note": "x"})
    assert response.status_code == 400
    assert (
        "unknown action type 'stamp'" in response.json()["error"]["details"]["actions[0].type"][0]
    )


def test_the_type_is_validated_at_save_time_through_the_api(api, stamp):
    response = _create(api, {"note": "", "colour": "red"})
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["actions[0].config.note"] == ["note must not be empty"]
    assert details["actions[0].config.colour"] == ["unknown key 'colour'; expected one of note"]


def test_its_templates_are_checked_at_save_time(api, stamp):
    response = _create(api, {"note": "{{record.no_such_field}}"})
    assert response.status_code == 400
    assert "actions[0].config.note" in response.json()["error"]["details"]


def test_the_dry_run_previews_it_through_the_default_preview(api, tenant, stamp):
    automation = _create(api, {"note": "  for {{record.name}}  "}).json()["data"]
    assert automation["actions"][0]["config"] == {"note": "for {{record.name}}"}  # normalized
    record = make_record(tenant, "contacts", name="Ada")

    response = api.post(
        f"/v1/automations/{automation['id']}/test", {"record_id": record.id}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"]["actions_preview"] == [
        {"type": "stamp", "config": {"note": "for Ada"}}
    ]


def test_a_real_run_executes_it(api, tenant, stamp):
    created = _create(api, {"note": "for {{record.name}}"}).json()["data"]
    matching.invalidate(tenant.workspace.id)  # the API's on-commit refresh, which a db test skips
    make_record(tenant, "contacts", name="Ada")
    drain()

    [run] = runs_of(Automation.objects.get(pk=created["id"]))
    assert run.status == "success"
    action_run = run.action_runs.get()
    assert (action_run.type, action_run.output) == ("stamp", {"stamped": "for Ada"})


class Pause(Action):
    """A type that waits, as delay does: the executor parks the run because the type says it
    parks and answers Park, not because its name is "delay"."""

    type = "pause"
    label = "Pause a while"
    templated = False
    parks = True

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        return unknown_keys(config, set(), path)

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Park:
        return Park(3600)


@pytest.fixture
def pause() -> Iterator[Pause]:
    action = Pause()
    ACTIONS[action.type] = action
    try:
        yield action
    finally:
        del ACTIONS[action.type]


def test_a_type_that_parks_makes_the_run_wait_and_stops_before_the_next_action(
    api, tenant, stamp, pause
):
    created = api.post(
        "/v1/automations",
        {
            "name": "Paused",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {"type": "pause", "config": {}},
                {"type": "stamp", "config": {"note": "x"}},
            ],
        },
        format="json",
    ).json()["data"]
    matching.invalidate(tenant.workspace.id)
    make_record(tenant, "contacts", name="Ada")
    drain()

    [run] = runs_of(Automation.objects.get(pk=created["id"]))
    assert run.status == "waiting"
    assert run.next_action_index == 1
    [waited] = run.action_runs.all()
    assert (waited.type, waited.status, waited.output["seconds"]) == ("pause", "waiting", 3600)
