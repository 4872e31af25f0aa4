"""Rows of a values() queryset, read faster on PostgreSQL: the list endpoints' page queries.

Django (psycopg 3) loads every timestamptz with its own loader, a Python subclass of psycopg's
pure-Python one, so that datetimes come back in UTC whatever the session's time zone. A page of
runs or automations holds a few hundred timestamps, and loading them that way cost more than
running the query. The session's time zone is UTC whenever USE_TZ is on and the database has no
TIME_ZONE of its own (Django sets it so), and psycopg's C loader then gives the very same aware
UTC datetimes; so `value_rows` runs the SQL the ORM compiled for the queryset on a cursor that
uses the C loader, and converts the rows with the ORM's own converters (JSONField decoding,
...). The query is logged and counted like any other. Anywhere else (SQLite, psycopg without
its C extension, another time zone) it is just list(queryset).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

try:
    import psycopg
    from psycopg.postgres import types as pg_types

    _TIMESTAMPTZ = pg_types["timestamptz"].oid
    _C_LOADER = psycopg.adapters.get_loader(_TIMESTAMPTZ, psycopg.pq.Format.TEXT)
    if _C_LOADER is None or not _C_LOADER.__module__.startswith("psycopg_binary"):
        _C_LOADER = None  # the pure-Python implementation: nothing to gain
except ImportError:  # pragma: no cover - SQLite-only installations
    _C_LOADER = None


def _fast_path(connection) -> bool:
    return (
        _C_LOADER is not None
        and connection.vendor == "postgresql"
        and settings.USE_TZ
        and connection.timezone is dt.UTC
        and connection.timezone_name == "UTC"
    )


def load_timestamps_in_c(connection, cursor) -> None:
    """Give this psycopg cursor psycopg's C timestamptz loader where it loads what Django's
    would (see the module's docstring); elsewhere leave it as it is."""
    if _fast_path(connection):
        cursor.adapters.register_loader(_TIMESTAMPTZ, _C_LOADER)


def value_rows(queryset: QuerySet) -> list[dict[str, Any]]:
    """list(queryset) for a queryset of values(): the same dicts, in the same order."""
    connection = connections[queryset.db]
    query = queryset.query
    if not _fast_path(connection) or query.combinator or not query.values_select:
        return list(queryset)
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
    with connection.cursor() as cursor:
        load_timestamps_in_c(connection, cursor.cursor)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [dict(zip(names, row, strict=True)) for row in rows]
