"""What update_record and create_record share: the checks of a target module and of the field
values written, at save time, and the dry run's view of those values as the write stores them.

In the dry run the values are coerced by the target field's type with the very function the
write uses (records.services.record_values_clean), so the preview shows what the run stores, or
the error the run would fail with (the same code and message as the actions give).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.validation import (
    DefinitionContext,
    Problems,
    field_values_problems,
    join,
)
from config.errors import ValidationFailed
from records.models import Module
from records.services import record_values_clean


def named_module(
    config: Mapping[str, Any], ctx: DefinitionContext, path: str, problems: Problems
) -> Module | None:
    """The module the config's `module` names, or None; an unknown one is added to
    `problems` (a missing or empty one is required_string's to report)."""
    slug = config.get("module")
    if not isinstance(slug, str) or not slug.strip():
        return None
    module = ctx.module_by_slug(slug)
    if module is None:
        problems.append((join(path, "module"), f"unknown module '{slug}' in this workspace"))
    return module


def values_problems(
    config: Mapping[str, Any], key: str, module: Module | None, path: str, *, require_all: bool
) -> Problems:
    """The field values under `key`: required; checked against `module` when it is known."""
    where = join(path, key)
    if key not in config:
        return [(where, f"{key} is required")]
    if module is not None:
        return field_values_problems(config[key], module, where, require_all=require_all)
    if not isinstance(config[key], Mapping):
        return [(where, "must be an object of field values")]
    return []


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
