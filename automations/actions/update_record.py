"""update_record: change fields of the trigger record or of a related record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from automations.actions.base import Action, ActionContext, ActionError
from config.api.errors import ValidationFailed
from records.models import Record
from records.selectors import module_get
from records.services import record_update


def _validation_message(err: ValidationFailed) -> str:
    return err.message


class UpdateRecord(Action):
    type = "update_record"
    transactional = True

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        record = self._target(config, ctx)
        updates = config.get("updates") or {}
        if not isinstance(updates, Mapping):
            raise ActionError("validation_error", "updates must be an object", permanent=True)
        before = dict(record.values)
        try:
            updated = record_update(record=record, data=updates, actor=ctx.actor, cause=ctx.chain)
        except ValidationFailed as err:
            raise ActionError("validation_error", _validation_message(err), permanent=True) from err
        changed = sorted(
            key
            for key in set(before) | set(updated.values)
            if before.get(key) != updated.values.get(key)
        )
        return {
            "record_id": updated.id,
            "module": updated.module.slug,
            "changed_fields": changed,
        }

    def _target(self, config: Mapping[str, Any], ctx: ActionContext) -> Record:
        target = config.get("record", "trigger")
        records = Record.objects.select_related("module", "module__workspace").filter(
            workspace=ctx.workspace
        )
        if target == "related":
            module = module_get(workspace=ctx.workspace, slug=str(config.get("module") or ""))
            if module is None:
                raise ActionError(
                    "record_not_found",
                    f"Module '{config.get('module')}' not found",
                    permanent=True,
                )
            record_id = config.get("record_id")
            if not isinstance(record_id, str) or not record_id.strip():
                raise ActionError(
                    "record_not_found",
                    f"record_id rendered empty; no related {module.slug} record to update",
                    permanent=True,
                )
            record = _first(records.filter(module=module, id=record_id.strip()))
            where = f"{module.slug} record {record_id.strip()}"
        else:
            record_id = ctx.trigger_data.get("record_id")
            if not record_id:
                raise ActionError(
                    "record_not_found", "This trigger has no triggering record", permanent=True
                )
            record = _first(records.filter(id=record_id))
            where = f"record {record_id}"
        if record is None:
            raise ActionError(
                "record_not_found", f"{where[0].upper()}{where[1:]} not found", permanent=True
            )
        return record


def _first(records: QuerySet[Record]) -> Record | None:
    """The record of a lookup by id, if any (unlike first(), without an ORDER BY to build)."""
    try:
        return records.get()
    except Record.DoesNotExist:
        return None
