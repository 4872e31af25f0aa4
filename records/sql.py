"""The hot-path statements of records: writing a new record, writing a record's values, and
locking a record together with everything a change of it needs.

These run for every record save (benchmark S1) and for every record an automation updates (S2),
where the ORM's statement building and its extra round trips cost more than the work itself.
Each function runs one prepared PostgreSQL statement, and anywhere else (SQLite, the zero-setup
default) the ORM path that does the same work in more statements; callers never choose between
them. Table and column names come from the models' metadata (config.sqlrows), and every
statement is built once, at its first use. tests/runtime/test_hot_path.py holds each statement
to the ORM path it replaces.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import prefetch_related_objects
from django.utils import timezone

from accounts.models import Workspace
from config import sqlrows
from records.models import Field, Module, Record


def insert_record(record: Record) -> None:
    """What record.save(force_insert=True) writes, as one prepared statement (sqlrows.insert)."""
    sqlrows.insert(record)


@cache
def _write_values_sql() -> str:
    values, updated_at = sqlrows.column(Record, "values"), sqlrows.column(Record, "updated_at")
    # Only model metadata is formatted into the SQL; every value is a parameter.
    return (
        f"UPDATE {sqlrows.table(Record)} SET {values} = %s, {updated_at} = %s"  # noqa: S608
        f" WHERE {sqlrows.column(Record, 'pk')} = %s"
    )


def write_values(record: Record) -> None:
    """What record.save(update_fields=["values", "updated_at"]) writes, as one prepared
    statement: this runs for every record an automation updates, where the ORM's statement
    building costs more than the UPDATE itself."""
    if not sqlrows.available():
        record.save(update_fields=["values", "updated_at"])
        return
    record.updated_at = timezone.now()
    values = Record._meta.get_field("values").get_db_prep_save(record.values, connection)
    with sqlrows.prepared_cursor() as cursor:
        cursor.execute(_write_values_sql(), [values, record.updated_at, record.pk])


@cache
def _record_for_update_sql(*, by_module: bool) -> str:
    record, module, workspace = (sqlrows.table(m) for m in (Record, Module, Workspace))
    pk = sqlrows.column(Record, "pk")
    module_pk, workspace_pk = sqlrows.column(Module, "pk"), sqlrows.column(Workspace, "pk")
    field_order = f"f.{sqlrows.column(Field, 'position')}, f.{sqlrows.column(Field, 'pk')}"
    # Only model metadata is formatted into the SQL; every value is a parameter.
    return (
        f"SELECT {sqlrows.select_list(Record, 'r')}, {sqlrows.select_list(Module, 'm')}, "  # noqa: S608
        f"{sqlrows.select_list(Workspace, 'w')}, "
        f"(SELECT json_agg({sqlrows.json_row(Field, 'f')} ORDER BY {field_order})"
        f" FROM {sqlrows.table(Field)} f"
        f" WHERE f.{sqlrows.column(Field, 'module')} = m.{module_pk})::text "
        f"FROM {record} r "
        f"JOIN {module} m ON m.{module_pk} = r.{sqlrows.column(Record, 'module')} "
        f"JOIN {workspace} w ON w.{workspace_pk} = m.{sqlrows.column(Module, 'workspace')} "
        f"WHERE r.{pk} = %s AND r.{sqlrows.column(Record, 'workspace')} = %s"
        + (f" AND m.{sqlrows.column(Module, 'slug')} = %s" if by_module else "")
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
        return record_for_update_orm(
            workspace_id=workspace_id, record_id=record_id, module_slug=module_slug
        )
    params: list[Any] = [record_id, workspace_id]
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
    prefetched._prefetch_done = True  # type: ignore[attr-defined]
    module._prefetched_objects_cache = {"fields": prefetched}  # type: ignore[attr-defined]
    record.module = module
    record.workspace = module.workspace
    return record


def record_for_update_orm(
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
