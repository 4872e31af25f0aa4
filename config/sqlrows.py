"""The generic machinery of hand-written hot-path SQL: statements tied to the models, rows
turned back into model instances, and a cursor whose statements are prepared.

The ORM cannot express some statements that hot paths need (a row lock of one table taken
together with its related rows, the related rows of a row aggregated into one JSON column,
several writes in one statement), and each statement it does not save costs a round trip to
PostgreSQL. The statements themselves live in one module per app (records.sql,
automations.runtime.sql), each behind a function that also holds its ORM fallback; this module
only keeps them tied to the models: table and column names come from the models' metadata, the
select list is generated from a model's concrete fields, and a row slice becomes an instance
through the fields' own database converters (JSONField decodes its text, for example), exactly
as a queryset would build it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.postgresql import base as _postgresql
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model

from config.rows import load_timestamps_in_c

M = TypeVar("M", bound=Model)

# django-stubs declare ServerBindingCursor without its psycopg base class (the cursor itself).
_ServerBindingCursor: Any = _postgresql.ServerBindingCursor


def available() -> bool:
    """Whether the hand-written statements can run here: they are PostgreSQL's (row locks of one
    table in a join, json_agg, data-modifying CTEs, prepared statements). On SQLite (the
    zero-setup default) callers take their ORM path instead, which does the same work in more
    statements."""
    return connection.vendor == "postgresql"


# A name PostgreSQL reads as written without quotes (it folds unquoted names to lower case).
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def table(model: type[Model]) -> str:
    """The model's table as the statements name it: unquoted (as they have always been written,
    and as tests find them in pg_prepared_statements), so only a plain lower-case name will do;
    one that needs quoting raises rather than building a statement that misses the table."""
    name = model._meta.db_table
    if not _PLAIN_NAME.match(name):
        raise ValueError(f"{model.__name__}'s table {name!r} needs quoting in hand-written SQL")
    return name


def column(model: type[Model], field_name: str) -> str:
    """The quoted column of one of the model's fields ("pk" for its primary key)."""
    meta = model._meta
    field = cast(Field, meta.pk if field_name == "pk" else meta.get_field(field_name))
    return connection.ops.quote_name(str(field.column))


@cache
def _fields(model: type[Model]) -> tuple:
    return tuple(model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many columns select_list(model, ...) selects."""
    return len(_fields(model))


@cache
def select_list(model: type[Model], alias: str) -> str:
    """`alias."col", ...` for every concrete field of `model`, in field order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields(model))


@cache
def _converters(model: type[Model]) -> tuple[tuple[int, tuple], ...]:
    """(position, converters) of the fields whose database values need converting."""
    found = []
    for position, field in enumerate(_fields(model)):
        converters = tuple(field.get_db_converters(connection))
        if converters:
            found.append((position, converters))
    return tuple(found)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in _fields(model)]


def _db():
    """The connection itself: `django.db.connection` is a proxy that looks the connection up
    again (a thread-local read) on every attribute, and the fields' own methods read several
    attributes for each value."""
    return connections[DEFAULT_DB_ALIAS]


def build(model: type[M], values: Sequence[Any]) -> M:
    """An instance of `model` from the values of its select_list, as loaded from the database."""
    fields = _fields(model)
    if len(values) != len(fields):
        raise ValueError(f"{model.__name__} needs {len(fields)} values, got {len(values)}")
    db = _db()
    converted = list(values)
    for position, converters in _converters(model):
        value = converted[position]
        if value is not None:
            for convert in converters:
                value = convert(value, fields[position], db)
            converted[position] = value
    return model.from_db(db.alias, _attnames(model), converted)


# Field types whose values JSON carries as they are (a json_build_array of them loads back as
# the Python values the ORM would give); date/time, decimal, UUID and binary ones do not.
_JSON_NATIVE = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "BooleanField",
    "CharField",
    "SlugField",
    "TextField",
    "EmailField",
    "URLField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "FloatField",
    "JSONField",
    "ForeignKey",
}


@cache
def json_row(model: type[Model], alias: str) -> str:
    """`json_build_array(alias."col", ...)`: a row as one JSON value, for json_agg() of the
    related rows of a parent row (one result row instead of one per related row)."""
    for field in _fields(model):
        if field.get_internal_type() not in _JSON_NATIVE:
            raise TypeError(f"{model.__name__}.{field.name} does not travel as JSON unchanged")
    return f"json_build_array({select_list(model, alias)})"


def build_from_json(model: type[M], values: Sequence[Any]) -> M:
    """An instance from a decoded json_row() (its values are Python values already)."""
    return model.from_db(connection.alias, _attnames(model), list(values))


def split(row: Sequence[Any], *models: type[Model]) -> list[Sequence[Any]]:
    """Cut one result row into the slices of each model's select_list, in order."""
    slices, start = [], 0
    for model in models:
        end = start + width(model)
        slices.append(row[start:end])
        start = end
    return slices


@cache
def _insert_sql(model: type[Model]) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (model names)


def insert(instance: Model) -> None:
    """What instance.save(force_insert=True) writes, as one prepared statement, for models whose
    primary key is set before saving (the generated public ids): record saves and runs are the
    hot path of every record change, and the ORM's statement building cost more CPU than the
    INSERT itself. Every field's pre_save runs (auto_now_add and auto_now fill in their time),
    values are prepared by the fields themselves; model signals are not sent (the models written
    this way have no receivers). On other databases, save() itself."""
    model = type(instance)
    if instance.pk is None:
        raise ValueError(f"{model.__name__} needs its primary key before sqlrows.insert")
    if not available():
        instance.save(force_insert=True)
        return
    db = _db()
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), db) for field in _fields(model)
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_insert_sql(model), values)
    instance._state.adding = False
    instance._state.db = db.alias


class _PreparingCursor(_ServerBindingCursor):
    """Server-side parameter binding, and every statement prepared: PostgreSQL parses and
    plans it once per connection, then only executes it."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor():
    """A cursor of Django's connection (queries logged and wrapped as any other) whose
    statements are prepared. Only for the few fixed statements of hot paths: each distinct
    statement stays prepared for the life of the connection (psycopg keeps up to 100). With
    settings.DATABASE_PREPARED_STATEMENTS off, an ordinary cursor."""
    db = _db()
    if not settings.DATABASE_PREPARED_STATEMENTS:
        return db.cursor()
    db.ensure_connection()
    db.validate_thread_sharing()
    if db.connection.prepare_threshold is None:
        # Django turns preparation off for the connection (prepare_threshold None, for poolers
        # such as PgBouncer in transaction mode), and psycopg then ignores even an explicit
        # prepare=True. A threshold no statement reaches keeps automatic preparation off for
        # every other cursor while this one prepares its statements explicitly.
        db.connection.prepare_threshold = 1_000_000
    raw = _PreparingCursor(db.connection)
    load_timestamps_in_c(db, raw)
    if db.queries_logged:
        return _LoggedCursor(raw, db)
    return db.make_cursor(raw)


class _LoggedCursor(CursorDebugWrapper):
    """Logs the statement with its values in (Django asks the cursor for the text it sent,
    which a prepared statement does not have)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)
