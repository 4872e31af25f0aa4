"""create_record: a new record in any module of the automation's workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.actions.base import Action, ActionContext, ActionError
from config.errors import ValidationFailed
from records.selectors import module_get
from records.services import record_create


class CreateRecord(Action):
    type = "create_record"
    transactional = True

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
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
        return {"record_id": record.id, "module": module.slug}
