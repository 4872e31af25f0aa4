"""update_record: change fields of the trigger record or of a related record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.actions.base import Action, ActionContext, ActionError
from config.errors import ValidationFailed
from records.models import Record
from records.selectors import module_get, record_for_update
from records.services import record_update


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
            updated = record_update(
                record=record, data=updates, actor=ctx.actor, cause=ctx.chain, locked=True
            )
        except ValidationFailed as err:
            raise ActionError("validation_error", err.message, permanent=True) from err
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
        """The record to change, read with its row locked (record_update then reads nothing)."""
        workspace_id = ctx.workspace.id
        if config.get("record", "trigger") == "related":
            slug = str(config.get("module") or "")
            record_id = config.get("record_id")
            if not isinstance(record_id, str) or not record_id.strip():
                self._check_module(ctx, slug)
                raise ActionError(
                    "record_not_found",
                    f"record_id rendered empty; no related {slug} record to update",
                    permanent=True,
                )
            record = record_for_update(
                workspace_id=workspace_id, record_id=record_id.strip(), module_slug=slug
            )
            if record is None:
                self._check_module(ctx, slug)
                where = f"{slug} record {record_id.strip()}"
                raise ActionError(
                    "record_not_found", f"{where[:1].upper()}{where[1:]} not found", permanent=True
                )
            return record
        record_id = ctx.trigger_data.get("record_id")
        if not record_id:
            raise ActionError(
                "record_not_found", "This trigger has no triggering record", permanent=True
            )
        record = record_for_update(workspace_id=workspace_id, record_id=str(record_id))
        if record is None:
            raise ActionError("record_not_found", f"Record {record_id} not found", permanent=True)
        return record

    @staticmethod
    def _check_module(ctx: ActionContext, slug: str) -> None:
        """A missing module is reported as such, rather than as a missing record."""
        if module_get(workspace=ctx.workspace, slug=slug) is None:
            raise ActionError("record_not_found", f"Module '{slug}' not found", permanent=True)
