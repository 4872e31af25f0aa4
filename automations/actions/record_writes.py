"""What update_record and create_record share in the dry run: the values as the write will
store them.

The values are coerced by the target field's type with the very function the write uses
(records.services.record_values_clean), so the preview shows what the run stores, or the error
the run would fail with (the same code and message as the actions give).
"""

from __future__ import annotations

from typing import Any

from config.api.errors import ValidationFailed
from records.models import Module
from records.services import record_values_clean


def preview_record_write(
    preview: dict[str, Any], key: str, module: Module | None, *, partial: bool
) -> dict[str, Any]:
    """`preview` with its config's `key` (the field values written) shown as stored; `module`
    is the target (None: not found); `partial` for an update, whose other fields stay."""
    config = preview["config"]
    values = config.get(key)
    if not isinstance(values, dict):
        return preview
    if module is None:
        slug = str(config.get("module") or "")
        preview["error"] = {"code": "record_not_found", "message": f"Module '{slug}' not found"}
        return preview
    try:
        cleaned = record_values_clean(module=module, data=values, partial=partial)
    except ValidationFailed as err:
        preview["error"] = {"code": "validation_error", "message": err.message}
        return preview
    # Keys the write ignores (the read-only id, module, created_at, updated_at) are dropped.
    preview["config"] = {**config, key: {k: cleaned[k] for k in values if k in cleaned}}
    return preview
