"""The executor's hot path (benchmarks S2/S3): its PostgreSQL statements must write exactly what
the ORM path writes, fail over to the ORM path correctly, and stay few."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from automations.models import ActionRun, Run
from automations.runtime import executor
from config import sqlrows
from records.models import Record
from records.selectors import module_fields, record_for_update
from records.services import record_update
from records.sql import insert_record, record_for_update_orm
from tests.factories import make_record
from tests.runtime.support import drain, make_automation, runs_of

pytestmark = pytest.mark.django_db

MARK_DONE = {"type": "update_record", "config": {"updates": {"status": "done"}}}


@pytest.fixture
def postgres_only():
    if not sqlrows.available():
        pytest.skip("the hand-written statements are PostgreSQL's")


def _one_action_run(tenant, name="Ada"):
    automation = make_automation(
        tenant,
        trigger={"type": "record.created", "module": "contacts"},
        actions=[MARK_DONE],
        name=f"mark {name}",
    )
    record = make_record(tenant, "contacts", name=name)
    [run] = runs_of(automation)
    return automation, record, run


def _outcome(automation, run_id):
    run = Run.objects.get(id=run_id)
    [log] = ActionRun.objects.filter(run_id=run_id)
    automation.refresh_from_db()
    return {
        "run": (
            run.status,
            run.next_action_index,
            run.attempts,
            run.error_code,
            run.error_message,
            run.lease_expires_at,
            run.due_at,
            run.started_at is not None,
            run.completed_at is not None and run.completed_at >= run.started_at,
            run.duration_ms == log.duration_ms,
        ),
        "log": (
            log.index,
            log.type,
            log.status,
            log.attempt,
            log.config,
            log.output,
            log.error_code,
            log.error_message,
            log.started_at is not None,
            log.completed_at is not None,
        ),
        "automation": (
            automation.run_count,
            automation.last_run_status,
            automation.consecutive_failures,
            automation.last_run_at is not None,
        ),
    }


def test_the_one_statement_finish_writes_what_the_orm_path_writes(
    tenant, postgres_only, monkeypatch
):
    fast_automation, fast_record, fast_run = _one_action_run(tenant, "Ada")
    with CaptureQueriesContext(connection) as queries:
        assert executor.execute(fast_run.id) == Run.Status.SUCCESS
    # BEGIN, the run locked and loaded, the record locked and loaded, its UPDATE, the
    # finishing statement, COMMIT.
    assert len(queries.captured_queries) == 6, [q["sql"][:80] for q in queries]

    monkeypatch.setattr(sqlrows, "available", lambda: False)  # every ORM path
    orm_automation, orm_record, orm_run = _one_action_run(tenant, "Bob")
    assert executor.execute(orm_run.id) == Run.Status.SUCCESS

    fast, orm = _outcome(fast_automation, fast_run.id), _outcome(orm_automation, orm_run.id)
    # The outputs name each run's own record; everything else is the same.
    assert fast["log"][5] == {**orm["log"][5], "record_id": fast_record.id}
    fast["log"] = fast["log"][:5] + fast["log"][6:]
    orm["log"] = orm["log"][:5] + orm["log"][6:]
    assert fast == orm
    assert fast["run"][0] == "success" and fast["automation"][:3] == (1, "success", 0)
    for record in (fast_record, orm_record):
        record.refresh_from_db()
        assert record.values["status"] == "done"


def test_a_retried_run_is_not_counted_twice_by_the_one_statement_finish(tenant, postgres_only):
    automation, _, run = _one_action_run(tenant)
    Run.objects.filter(id=run.id).update(context={"retried": 1})
    executor.execute(run.id)
    automation.refresh_from_db()
    assert automation.run_count == 0
    assert automation.last_run_status == "success"


def test_a_locked_execution_records_when_it_started(tenant):
    # It never writes the row as "running" (one transaction), so the outcome carries it.
    _, _, run = _one_action_run(tenant)
    drain()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert run.started_at is not None and run.started_at <= run.completed_at
    assert run.lease_expires_at is None


def test_an_action_failing_in_an_optimistic_execution_is_redone_with_savepoints(
    tenant, monkeypatch
):
    automation, record, run = _one_action_run(tenant)
    Record.objects.filter(id=record.id).delete()
    attempts = []
    original = executor.execute

    def counting(run_id, *, optimistic=True):
        attempts.append(optimistic)
        return original(run_id, optimistic=optimistic)

    monkeypatch.setattr(executor, "execute", counting)
    assert executor.execute(run.id) == Run.Status.FAILED
    # Rolled back without a trace, then executed again with a savepoint around the action.
    assert attempts == [True, False]
    run.refresh_from_db()
    assert (run.status, run.error_code) == ("failed", "record_not_found")
    [log] = ActionRun.objects.filter(run_id=run.id)
    assert (log.status, log.attempt, log.error_code) == ("failed", 1, "record_not_found")
    automation.refresh_from_db()
    assert (automation.run_count, automation.consecutive_failures) == (1, 1)


def test_a_database_error_in_an_optimistic_execution_rolls_back_all_of_it(tenant, monkeypatch):
    """No savepoint around the action: an error that breaks the transaction must roll all of
    it back (claim included), and the redo executes the action again."""
    _, record, run = _one_action_run(tenant)
    from automations.actions.update_record import UpdateRecord

    real = UpdateRecord.execute
    calls = []

    def breaks_the_transaction(self, config, ctx):
        calls.append(1)
        output = real(self, config, ctx)  # the record is written ...
        if len(calls) == 1:
            with connection.cursor() as cursor:  # ... then a statement fails
                cursor.execute("SELECT * FROM no_such_table")
        return output

    monkeypatch.setattr(UpdateRecord, "execute", breaks_the_transaction)
    assert executor.execute(run.id) == Run.Status.SUCCESS  # the redo's second try worked
    assert len(calls) == 2
    record.refresh_from_db()
    assert record.values["status"] == "done"
    [log] = ActionRun.objects.filter(run_id=run.id)
    assert log.status == "success"


def test_record_for_update_loads_what_the_orm_lookup_loads_in_one_statement(
    tenant, other_tenant, postgres_only
):
    record = make_record(tenant, "contacts", name="Ada", email="ada@example.com")
    workspace_id = tenant.workspace.id
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            fast = record_for_update(workspace_id=workspace_id, record_id=record.id)
            fields = module_fields(fast.module)
            slug, workspace = fast.module.slug, fast.module.workspace.slug
        assert len(queries.captured_queries) == 1
        assert "FOR UPDATE OF" in queries.captured_queries[0]["sql"]
        orm = record_for_update_orm(
            workspace_id=workspace_id, record_id=record.id, module_slug=None
        )
    assert (fast.id, fast.values, fast.created_at, fast.updated_at) == (
        orm.id,
        orm.values,
        orm.created_at,
        orm.updated_at,
    )
    assert (slug, workspace) == (orm.module.slug, tenant.workspace.slug)
    orm_fields = module_fields(orm.module)
    assert [(f.id, f.key, f.type, f.required, f.options, f.position) for f in fields] == [
        (f.id, f.key, f.type, f.required, f.options, f.position) for f in orm_fields
    ]
    with transaction.atomic():
        assert (
            record_for_update(workspace_id=other_tenant.workspace.id, record_id=record.id) is None
        )
        assert (
            record_for_update(workspace_id=workspace_id, record_id=record.id, module_slug="deals")
            is None
        )
        assert record_for_update(
            workspace_id=workspace_id, record_id=record.id, module_slug="contacts"
        )


def test_record_update_of_a_locked_record_reads_nothing_again(tenant):
    record = make_record(tenant, "contacts", name="Ada")
    with transaction.atomic():
        locked = record_for_update(workspace_id=tenant.workspace.id, record_id=record.id)
        with CaptureQueriesContext(connection) as queries:
            record_update(record=locked, data={"status": "done"}, locked=True)
    assert not any(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    record.refresh_from_db()
    assert record.values["status"] == "done"
    assert record.updated_at > record.created_at


def test_rows_built_from_sql_equal_the_orm_instances(tenant, postgres_only):
    _, _, run = _one_action_run(tenant)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sqlrows.select_list(Run, 'r')} FROM automations_run r WHERE r.id = %s",  # noqa: S608
            [run.id],
        )
        built = sqlrows.build(Run, cursor.fetchone())
    loaded = Run.objects.get(id=run.id)
    for field in Run._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(loaded, field.attname), field.name
    assert built._state.adding is False


def test_prepared_statements_are_logged_with_their_values(tenant, postgres_only):
    record = make_record(tenant, "contacts", name="Ada")
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record_for_update(workspace_id=tenant.workspace.id, record_id=record.id)
    [query] = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert record.id in query and str(tenant.workspace.id) in query


def test_the_redis_cache_reuses_its_client(settings):
    cache = caches["automations"]
    if not hasattr(cache, "_cache") or not hasattr(cache._cache, "_clients"):
        pytest.skip("not the Redis cache")
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    cache.set("hot-path-probe", 1)
    assert cache.get("hot-path-probe") == 1


@pytest.mark.parametrize("enabled, expected", [(True, "off"), (False, "on")])
def test_worker_connections_commit_asynchronously_when_set(
    settings, postgres_only, enabled, expected
):
    from django.db import connections
    from django.db.backends.signals import connection_created

    from config.celery import _commit_without_waiting_for_the_disk

    settings.AUTOMATIONS_WORKER_ASYNC_COMMIT = enabled
    # What `celery worker` runs (signal worker_init) before it forks its pool.
    _commit_without_waiting_for_the_disk()
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == expected
    finally:
        fresh.close()
        connection_created.disconnect(dispatch_uid="async-commit")


def test_a_transaction_creating_runs_commits_durably_on_an_async_worker_connection(
    tenant, postgres_only, monkeypatch
):
    """Runs are published after commit: that commit must reach the disk first, or a crash could
    lose a run some worker already executed, and redoing its cause would create it anew."""
    _, _, run = _one_action_run(tenant)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")  # as a worker connection is
    monkeypatch.setattr(connection, "commits_asynchronously", True, raising=False)

    def mode():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    assert mode() == "off"
    executor.execute(run.id)  # the run's own execution creates no run: stays asynchronous
    assert mode() == "off"
    make_record(tenant, "contacts", name="Bob")  # its record.created run is published
    assert mode() == "on"


def test_prepared_statements_can_be_turned_off(tenant, postgres_only, settings):
    # Behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
    settings.DATABASE_PREPARED_STATEMENTS = False

    def prepared() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    before = prepared()
    _, record, run = _one_action_run(tenant)
    assert executor.execute(run.id) == Run.Status.SUCCESS
    assert prepared() == before
    record.refresh_from_db()
    assert record.values["status"] == "done"
    settings.DATABASE_PREPARED_STATEMENTS = True
    _, _, second = _one_action_run(tenant, "Bob")
    executor.execute(second.id)
    statements = " ".join(prepared())
    assert "FROM automations_run r" in statements  # the run's lock-and-load
    assert "UPDATE records_record" in statements  # the record's values
    assert "WITH logged AS" in statements  # the finishing statement


def test_a_prepared_insert_writes_what_the_orm_insert_writes(tenant, postgres_only):
    # record_create and run_create write through sqlrows.insert (records.sql.insert_record,
    # automations.runtime.sql.insert_run); the same instance saved by the ORM must give the
    # same row, defaults and auto_now(_add) times included.
    from records.models import Module

    module = Module.objects.get(workspace=tenant.workspace, slug="contacts")
    values = {"name": "Ada", "tags": ["a", "b"], "score": 3}

    def new(record_id: str) -> Record:
        return Record(
            id=record_id,
            workspace_id=tenant.workspace.id,
            module=module,
            values=values,
            created_by=tenant.user,
        )

    by_orm = new("rec_orm")
    by_orm.save(force_insert=True)
    by_sql = new("rec_sql")
    with CaptureQueriesContext(connection) as queries:
        insert_record(by_sql)
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT INTO")
    assert by_sql._state.adding is False and by_sql.created_at and by_sql.updated_at
    orm_row, sql_row = Record.objects.get(id="rec_orm"), Record.objects.get(id="rec_sql")
    for field in Record._meta.concrete_fields:
        if field.name in {"id", "created_at", "updated_at"}:
            continue
        assert getattr(sql_row, field.attname) == getattr(orm_row, field.attname), field.name
    assert sql_row.created_at == by_sql.created_at and sql_row.updated_at == by_sql.updated_at


def test_a_prepared_insert_of_a_taken_id_fails_and_leaves_the_row(tenant, postgres_only):
    from django.db import IntegrityError

    record = make_record(tenant, "contacts", name="Ada")
    twin = Record(id=record.id, workspace_id=tenant.workspace.id, module=record.module, values={})
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_record(twin)
    record.refresh_from_db()
    assert record.values["name"] == "Ada"


def test_every_record_save_and_run_writes_only_the_indexes_queries_use(postgres_only):
    # Each index is written by every INSERT (and every update that cannot be HOT). Those whose
    # leading column another index already leads with, and the LIKE pattern indexes of ids,
    # were dropped (migrations 0002); this keeps new ones from coming back unnoticed. The Runs
    # page's (0003) are the workspace's pages by date (and status) and the records an action
    # run's output names.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename IN "
            "('records_record', 'automations_run', 'automations_actionrun')"
        )
        indexes = {(table, name) for table, name in cursor.fetchall()}
    names = {name for _, name in indexes}
    assert not [name for name in names if name.endswith("_like")]
    assert {
        "record_module_created",
        "run_automation_created",
        "run_automation_status",
        "run_relay_due",
        "run_running_lease",
        "run_triggered_by",
        "action_run_unique",
        "run_workspace_created",
        "run_workspace_status",
        "action_run_output_record",
    } <= names
    assert len([1 for table, _ in indexes if table == "automations_run"]) == 9
    assert len([1 for table, _ in indexes if table == "records_record"]) == 4
    assert len([1 for table, _ in indexes if table == "automations_actionrun"]) == 3
