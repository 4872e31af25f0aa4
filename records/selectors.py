import json
from functools import cache

from django.db.models import QuerySet, prefetch_related_objects

from accounts.models import Workspace
from config import sqlrows
from records.models import Field, Module, Record


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


@cache
def _record_for_update_sql(*, by_module: bool) -> str:
    # Only model metadata is formatted into the SQL; every value is a parameter.
    return (
        f"SELECT {sqlrows.select_list(Record, 'r')}, {sqlrows.select_list(Module, 'm')}, "  # noqa: S608
        f"{sqlrows.select_list(Workspace, 'w')}, "
        f"(SELECT json_agg({sqlrows.json_row(Field, 'f')} ORDER BY f.position, f.id)"
        " FROM records_field f WHERE f.module_id = m.id)::text "
        "FROM records_record r "
        "JOIN records_module m ON m.id = r.module_id "
        "JOIN accounts_workspace w ON w.id = m.workspace_id "
        "WHERE r.id = %s AND r.workspace_id = %s"
        + (" AND m.slug = %s" if by_module else "")
        + " FOR UPDATE OF r"
    )


def record_for_update(
    *, workspace_id: int, record_id: str, module_slug: str | None = None
) -> Record | None:
    """The record, its row locked until the current transaction ends, with its module, the
    module's workspace and the module's fields loaded: one statement (an ORM lookup with a
    lock, the module's fields and a separate lock read takes three). Pass the result to
    records.services.record_update(locked=True), which then does not read it again.

    Must be called inside a transaction (atomic). None if no such record in the workspace
    (and, with `module_slug`, in that module).
    """
    if not sqlrows.available():
        return _record_for_update_orm(
            workspace_id=workspace_id, record_id=record_id, module_slug=module_slug
        )
    params: list = [record_id, workspace_id]
    if module_slug is not None:
        params.append(module_slug)
    with sqlrows.prepared_cursor() as cursor:
        cursor.execute(_record_for_update_sql(by_module=module_slug is not None), params)
        row = cursor.fetchone()
    if row is None:
        return None
    record_row, module_row, workspace_row = sqlrows.split(row, Record, Module, Workspace)
    record = sqlrows.build(Record, record_row)
    module = sqlrows.build(Module, module_row)
    module.workspace = sqlrows.build(Workspace, workspace_row)
    fields = []
    for values in json.loads(row[-1] or "[]"):
        field = sqlrows.build_from_json(Field, values)
        field.module = module
        fields.append(field)
    # As prefetch_related("fields") leaves it (module_fields() and module.fields.all() read it).
    prefetched = module.fields.all()
    prefetched._result_cache = fields
    prefetched._prefetch_done = True
    module._prefetched_objects_cache = {"fields": prefetched}
    record.module = module
    record.workspace = module.workspace
    return record


def _record_for_update_orm(
    *, workspace_id: int, record_id: str, module_slug: str | None
) -> Record | None:
    """record_for_update in ORM statements (SQLite; and the reference the SQL is tested
    against)."""
    records = Record.objects.select_for_update(of=("self",)).select_related(
        "module", "module__workspace"
    )
    records = records.filter(workspace_id=workspace_id, id=record_id)
    if module_slug is not None:
        records = records.filter(module__slug=module_slug)
    record = records.first()
    if record is not None:
        prefetch_related_objects([record.module], "fields")
        record.workspace = record.module.workspace
    return record
