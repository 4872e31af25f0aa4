"""update_record: change fields of the trigger record or of a related record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automations.actions.base import Action, ActionContext, ActionError, Done, PreviewContext
from automations.actions.record_writes import named_module, preview_record_write, values_problems
from automations.trigger_types import RECORD_DELETED
from automations.validation import (
    DefinitionContext,
    Problems,
    has_markup,
    join,
    required_string,
    unknown_keys,
)
from config.errors import ValidationFailed
from records.models import Module, Record
from records.selectors import module_get, record_for_update
from records.services import record_update

_RECORD_ID = re.compile(r"^rec_[a-z0-9]{4,32}$")


class UpdateRecord(Action):
    type = "update_record"
    label = "Update a record"
    transactional = True

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        problems = unknown_keys(config, {"record", "module", "record_id", "updates"}, path)
        target = config.get("record", "trigger")
        module: Module | None = None
        if target == "trigger":
            for key in ("module", "record_id"):
                if key in config:
                    problems.append((join(path, key), f"{key} is only used with record 'related'"))
            if ctx.trigger_valid:
                if not ctx.has_record:
                    problems.append(
                        (
                            join(path, "record"),
                            f"a {ctx.trigger_type} trigger has no triggering record; "
                            "use record 'related' with module and record_id",
                        )
                    )
                elif ctx.trigger_type == RECORD_DELETED:
                    problems.append(
                        (
                            join(path, "record"),
                            "the triggering record of a record.deleted trigger no longer exists",
                        )
                    )
                else:
                    module = ctx.module
        elif target == "related":
            problems += required_string(config, "module", path)
            module = named_module(config, ctx, path, problems)
            problems += required_string(config, "record_id", path)
            record_id = config.get("record_id")
            if isinstance(record_id, str) and record_id.strip() and not has_markup(record_id):
                if not _RECORD_ID.match(record_id.strip()):
                    problems.append(
                        (join(path, "record_id"), "must be a record id (rec_...) or a template")
                    )
        else:
            problems.append((join(path, "record"), "must be 'trigger' or 'related'"))
        return problems + values_problems(config, "updates", module, path, require_all=False)

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"record": "trigger", **config}

    def preview(self, config: Mapping[str, Any], ctx: PreviewContext) -> dict[str, Any]:
        preview = super().preview(config, ctx)
        rendered = self.rendered_config(preview)
        if rendered is None or not isinstance(rendered.get("updates"), dict):
            return preview
        automation = ctx.automation
        if rendered.get("record", "trigger") != "related":
            if not automation.module_id:
                return preview  # no trigger record: the run fails for that, as the notes say
            module = automation.module
        else:
            slug = str(rendered.get("module") or "")
            module = module_get(workspace=automation.workspace, slug=slug)
        return preview_record_write(preview, "updates", module, partial=True)

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
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
        return Done(
            {
                "record_id": updated.id,
                "module": updated.module.slug,
                "changed_fields": changed,
            }
        )

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
