"""create_record: a new record in any module of the automation's workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.actions.base import Action, ActionContext, ActionError, Done, PreviewContext
from automations.actions.record_writes import named_module, preview_record_write, values_problems
from automations.validation import DefinitionContext, Problems, required_string, unknown_keys
from config.errors import ValidationFailed
from records.selectors import module_get
from records.services import record_create


class CreateRecord(Action):
    type = "create_record"
    label = "Create a record"
    transactional = True

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        problems = unknown_keys(config, {"module", "data"}, path)
        problems += required_string(config, "module", path)
        module = named_module(config, ctx, path, problems)
        return problems + values_problems(config, "data", module, path, require_all=True)

    def preview(self, config: Mapping[str, Any], ctx: PreviewContext) -> dict[str, Any]:
        preview = super().preview(config, ctx)
        rendered = self.rendered_config(preview)
        if rendered is None or not isinstance(rendered.get("data"), dict):
            return preview
        slug = str(rendered.get("module") or "")
        module = module_get(workspace=ctx.automation.workspace, slug=slug)
        return preview_record_write(preview, "data", module, partial=False)

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Done:
        slug = str(config.get("module") or "")
        module = module_get(workspace=ctx.workspace, slug=slug)
        if module is None:
            raise ActionError("record_not_found", f"Module '{slug}' not found", permanent=True)
        data = config.get("data") or {}
        if not isinstance(data, Mapping):
            raise ActionError("validation_error", "data must be an object", permanent=True)
        try:
            record = record_create(module=module, data=data, actor=ctx.actor, cause=ctx.chain)
        except ValidationFailed as err:
            raise ActionError("validation_error", err.message, permanent=True) from err
        return Done({"record_id": record.id, "module": module.slug})
