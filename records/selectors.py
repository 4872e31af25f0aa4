"""Reads of modules, fields and records that more than one caller needs (the API, the UI, the
automation actions), so each is written once."""

from django.db.models import QuerySet

from accounts.models import Workspace
from records.models import Field, Module, Record

# The record locked with its module and fields, for a change: one prepared statement, so it
# lives with the app's other hot-path statements.
from records.sql import record_for_update as record_for_update


def module_fields(module: Module) -> list[Field]:
    """Fields of a module, using a prefetch when the caller made one."""
    prefetched = getattr(module, "_prefetched_objects_cache", {})
    if "fields" in prefetched:
        return list(prefetched["fields"])
    return list(module.fields.all())


def modules_for(workspace: Workspace) -> QuerySet[Module]:
    return Module.objects.filter(workspace=workspace).prefetch_related("fields")


def module_get(*, workspace: Workspace, slug: str) -> Module | None:
    return modules_for(workspace).filter(slug=slug).first()


def record_get(*, workspace: Workspace, record_id: str, module: Module | None = None):
    records = Record.objects.filter(workspace=workspace).select_related("module")
    if module is not None:
        records = records.filter(module=module)
    return records.filter(pk=record_id).first()


def field_types_of(module: Module) -> dict[str, str]:
    return {f.key: f.type for f in module_fields(module)}
