"""Moving automations between workspaces or installations as a JSON document.

The document is versioned so that a later format can be told apart:

    {"format": "crm-automations", "version": 1,
     "automations": [{name, description, trigger, conditions, actions, error_handling,
                      timezone}, ...]}

Modules are named by slug, which the importing workspace maps to its own modules. Ids, webhook
secrets and the enabled flag never travel: an imported automation is new, disabled (to be
tested where it now lives) and, if it is a webhook, signed with the workspace's secret until
one is set. The web page and the management commands both call these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction

from accounts.models import Workspace
from automations.definition.model import DEFINITION_FIELDS
from automations.models import Automation
from automations.services import automation_create, automation_definition
from config.errors import ValidationFailed
from primitives import jsonpolicy

FORMAT = "crm-automations"
FORMAT_VERSION = 1
# Keys an exported automation may carry that an import drops on purpose (they belong to the
# installation the automation came from), rather than refuses as unknown.
NOT_IMPORTED = frozenset({"id", "enabled", "webhook_secret"})
MAX_AUTOMATIONS = 500


def export_document(automations: Iterable[Automation]) -> dict[str, Any]:
    """The export document of `automations`, in the order given."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "automations": [_exported(a) for a in automations],
    }


def _exported(automation: Automation) -> dict[str, Any]:
    definition = automation_definition(automation)
    return {key: definition[key] for key in DEFINITION_FIELDS}


def export_json(automations: Iterable[Automation]) -> str:
    return json.dumps(export_document(automations), indent=2, ensure_ascii=False) + "\n"


def parse_document(text: str | bytes) -> list[dict[str, Any]]:
    """The automations of an export document, or ValidationFailed saying what is wrong with
    the file (not JSON, another format or version, no automations)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed([("", "the file is not UTF-8 text")]) from None
    try:
        document = jsonpolicy.loads(text)
    except jsonpolicy.JSONRefused as err:
        raise ValidationFailed([("", f"the file is not a JSON document ({err})")]) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValidationFailed(
            [("format", f'this is not an automations export (expected "format": "{FORMAT}")')]
        )
    version = document.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValidationFailed(
            [
                (
                    "version",
                    f"this export has version {json.dumps(version)}; this installation reads "
                    f"version {FORMAT_VERSION}: export it again from a matching installation",
                )
            ]
        )
    automations = document.get("automations")
    if not isinstance(automations, list) or not automations:
        raise ValidationFailed([("automations", "the export holds no automations")])
    if len(automations) > MAX_AUTOMATIONS:
        raise ValidationFailed(
            [("automations", f"at most {MAX_AUTOMATIONS} automations can be imported at once")]
        )
    problems = [
        (f"automations[{i}]", "each automation must be a JSON object")
        for i, item in enumerate(automations)
        if not isinstance(item, dict)
    ]
    if problems:
        raise ValidationFailed(problems)
    return automations


@transaction.atomic
def import_automations(
    *, workspace: Workspace, automations: Sequence[Mapping[str, Any]], user: Any
) -> list[Automation]:
    """Create every automation (disabled) or none: ValidationFailed lists the problems of all
    of them, each path prefixed with `automations[i].` (the same checks as the API's)."""
    created: list[Automation] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(automations):
        data = {key: value for key, value in item.items() if key not in NOT_IMPORTED}
        try:
            # A savepoint per automation, so that one refused does not hide the others'
            # problems; the outer transaction still makes the import all or nothing.
            with transaction.atomic():
                created.append(automation_create(workspace=workspace, user=user, data=data))
        except ValidationFailed as exc:
            for path, messages in (exc.details or {"": [exc.message]}).items():
                where = f"automations[{index}].{path}" if path else f"automations[{index}]"
                problems += [(where, message) for message in messages]
    if problems:
        raise ValidationFailed(problems)
    return created
