"""Plumbing every scenario shares: results, timing, data set-up, and the real processes
(Celery workers, gunicorn) a scenario measures.

Every figure is a ratio against a baseline measured in the same run on the same services, so
that a busy machine slows both sides alike. Every load loop is bounded in count and in time.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devtools.processes import (
    Service,
    await_condition,
    celery_worker,
    free_port,
    gunicorn,
    rss_kb,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NOOP_KEY = "bench:noop"


# ---------------------------------------------------------------------------------------------
# Configuration and results


@dataclass
class Config:
    quick: bool = False
    full: bool = False
    # Figures one scenario hands to a later one (S3 runs at half of S2's rate).
    shared: dict[str, Any] = field(default_factory=dict)

    def pick(self, default: int, *, quick: int, full: int | None = None) -> int:
        if self.quick:
            return quick
        if self.full and full is not None:
            return full
        return default


@dataclass
class Figure:
    name: str
    value: float
    baseline: float
    unit: str
    target: str
    # value ÷ baseline unless the scenario defines the ratio otherwise (e.g. rates normalised).
    ratio: float | None = None
    passed: bool | None = None
    baseline_name: str = ""

    def text(self) -> str:
        ratio = "" if self.ratio is None else f" = {self.ratio:.2f}x"
        verdict = {True: "PASS", False: "FAIL", None: "info"}[self.passed]
        return (
            f"{self.name} {fmt(self.value)} {self.unit} vs {self.baseline_name or 'baseline'} "
            f"{fmt(self.baseline)} {self.unit}{ratio} (target {self.target}) {verdict}"
        )


@dataclass
class Result:
    scenario: str
    title: str
    figures: list[Figure]
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        # A scenario that stopped before measuring anything (no figures) did not pass.
        return bool(self.figures) and all(f.passed is not False for f in self.figures)

    def line(self) -> str:
        figures = "; ".join(f.text() for f in self.figures)
        return f"{self.scenario} {'PASS' if self.passed else 'FAIL'} | {self.title} | {figures}"

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.scenario}.json"
        data = {**asdict(self), "passed": self.passed, "machine": machine(), "at": now_iso()}
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        return path


def fmt(value: float) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def now_iso() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {postgres_version()}, "
        f"Redis {redis_version()}"
    )


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def redis_version() -> str:
    return str(redis_client().info("server").get("redis_version", "?"))


# ---------------------------------------------------------------------------------------------
# Timing


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ---------------------------------------------------------------------------------------------
# Services


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


def check_services() -> None:
    """The benchmarks run on PostgreSQL and Redis only, and only on a database meant for them
    (every scenario truncates the tables)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench: DATABASE_URL must point at PostgreSQL")
    if not settings.REDIS_URL:
        raise SystemExit("bench: REDIS_URL must point at a Redis database of the benchmark's own")
    name = connection.settings_dict["NAME"]
    if "bench" not in name:
        raise SystemExit(
            f"bench: refusing to truncate database {name!r}: its name must contain 'bench'"
        )


def database_url() -> str:
    """The URL of the database this process uses (in tests: pytest-django's test database)."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


@contextmanager
def using_database(name: str):
    """Point this process's connection, and the workers started meanwhile (child_env reads
    it), at database `name` of the same server."""
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


def _server():
    """An autocommit connection to the server's `postgres` database (CREATE and DROP DATABASE
    cannot run in the database they name, nor in a transaction)."""
    import psycopg

    return psycopg.connect(database_url().rpartition("/")[0] + "/postgres", autocommit=True)


def clone_database(target: str) -> None:
    """A copy of this process's database named `target` (replacing any earlier one), made by
    PostgreSQL from its files. The copy needs every session of the source closed: this
    process's connection is closed here, and the workers and servers must be stopped."""
    from django.db import connection

    source = connection.settings_dict["NAME"]
    connection.close()
    with _server() as server:
        await_condition(
            lambda: (
                not server.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [source]
                ).fetchone()[0]
            ),
            timeout=60,
            message=f"every session of {source} to end",
        )
        server.execute(f'DROP DATABASE IF EXISTS "{target}"')
        server.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY file_copy')


def drop_database(name: str) -> None:
    with _server() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def reset_state() -> None:
    """Empty every table the scenarios fill, and the benchmark's own Redis database."""
    from django.db import connection

    from automations.runtime import matching

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_workspace, auth_user RESTART IDENTITY CASCADE")
    redis_client().flushdb()
    matching.clear()


def vacuum_analyze(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy_since(start: tuple[int, int]) -> float:
    """The machine's busy share (0-1) since `start` (a cpu_jiffies() reading)."""
    busy, total = cpu_jiffies()
    return (busy - start[0]) / max(1, total - start[1])


def queue_length(queue: str = "celery") -> int:
    """Celery messages waiting in the broker."""
    return int(redis_client().llen(queue))


def ready_length() -> int:
    """Run ids waiting in the engine's ready list (automations.runtime.handover)."""
    from automations.runtime import handover

    return int(redis_client().llen(handover.READY))


def drop_handed_over() -> None:
    """Forget every run handed to the workers (for scenarios that run no worker)."""
    from automations.runtime import handover

    redis_client().delete("celery", handover.READY, handover.BELL, handover.LISTENERS)


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Tenant:
    workspace: Any
    user: Any
    key: str

    def module(self, slug: str):
        return self.workspace.modules.get(slug=slug)


def make_tenant(slug: str) -> Tenant:
    from accounts.models import Membership
    from accounts.services import (
        api_key_create,
        membership_ensure,
        user_get_or_create,
        workspace_create,
    )

    workspace = workspace_create(slug=slug, name=slug.title())
    user, _ = user_get_or_create(email=f"owner@{slug}.example")
    membership_ensure(workspace=workspace, user=user, role=Membership.Role.OWNER)
    _, key = api_key_create(workspace=workspace, user=user)
    return Tenant(workspace=workspace, user=user, key=key)


def make_automation(tenant: Tenant, **data: Any):
    """One automation through the service the API uses (validated), enabled by default."""
    from automations.runtime import matching
    from automations.services import automation_create

    data.setdefault("name", "bench")
    data.setdefault("enabled", True)
    automation = automation_create(workspace=tenant.workspace, user=tenant.user, data=data)
    matching.invalidate(tenant.workspace.id)
    return automation


def clone_automations(template, count: int, *, vary: Callable[[int, Any], None] | None = None):
    """`count` copies of a validated automation (and their version rows), written in bulk:
    creating 10,000 through the service would take most of a scenario's time budget."""
    from django.db import transaction

    from automations.models import Automation, AutomationVersion
    from automations.runtime import matching

    version = AutomationVersion.objects.get(automation=template, version=1)
    made = []
    with transaction.atomic():
        for start in range(0, count, 1000):
            batch = []
            for i in range(start, min(count, start + 1000)):
                copy = Automation(
                    **{
                        f.attname: getattr(template, f.attname)
                        for f in Automation._meta.concrete_fields
                        if f.attname not in ("id", "created_at", "updated_at")
                    }
                )
                copy.id = f"auto_{uuid.uuid4().hex[:24]}"
                copy.name = f"{template.name} {i}"
                if vary is not None:
                    vary(i, copy)
                batch.append(copy)
            Automation.objects.bulk_create(batch)
            AutomationVersion.objects.bulk_create(
                AutomationVersion(automation=a, version=1, definition=version.definition)
                for a in batch
            )
            made.extend(batch)
    matching.invalidate(template.workspace_id)
    return made


HISTORY_SLUG = "bench-history"
HISTORY_AUTOMATIONS = 100


def ensure_history(logs: int) -> tuple[Tenant, list]:
    """The workspace that holds the stored logs of S5, S6 and S7: HISTORY_AUTOMATIONS disabled
    automations sharing `logs` finished runs (each with an action run), created 30 to 210 days
    ago (so the retention purge, at 90 days, has two thirds of them to delete). Idempotent:
    only what is missing is inserted."""
    from accounts.models import ApiKey, Workspace
    from accounts.services import api_key_create
    from automations.models import Automation, Run

    workspace = Workspace.objects.filter(slug=HISTORY_SLUG).first()
    if workspace is None:
        tenant = make_tenant(HISTORY_SLUG)
        template = make_automation(
            tenant,
            name="history",
            enabled=False,
            trigger={"type": "record.created", "module": "deals"},
            actions=[{"type": "update_record", "config": {"updates": {"status": "seen"}}}],
        )
        clone_automations(template, HISTORY_AUTOMATIONS - 1)
    else:
        key = ApiKey.objects.filter(workspace=workspace).first()
        _, plain = api_key_create(workspace=workspace, user=key.user)
        tenant = Tenant(workspace=workspace, user=key.user, key=plain)
    automations = list(
        Automation.objects.filter(workspace=tenant.workspace, name__startswith="history").order_by(
            "id"
        )
    )
    have = Run.objects.filter(workspace=tenant.workspace).count()
    if have < logs:
        insert_logs(
            automation_ids=[a.id for a in automations],
            workspace_id=tenant.workspace.id,
            count=logs,
        )
    return tenant, automations


def insert_logs(*, automation_ids: list[str], workspace_id: int, count: int, days=(30, 210)):
    """Finished runs number 1..count (each with one action run) spread over the given
    automations and over the past days[0]..days[1] days, inserted by PostgreSQL itself
    (generate_series); those that exist already are kept."""
    from django.db import connection

    lo, hi = days
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH new_runs AS (
                INSERT INTO automations_run (
                    id, automation_id, workspace_id, version, status, trigger_data,
                    conditions_evaluated, next_action_index, attempts, context, chain,
                    error_code, error_message, record_id, created_at, started_at, completed_at,
                    duration_ms)
                SELECT 'log_old' || lpad(g::text, 10, '0'),
                       (%(ids)s::text[])[1 + g %% cardinality(%(ids)s::text[])],
                       %(ws)s, 1, 'success',
                       jsonb_build_object('event', 'record.created', 'record_id',
                           'rec_old' || g, 'module', 'contacts', 'record',
                           jsonb_build_object('id', 'rec_old' || g, 'name', 'Old contact ' || g,
                                              'email', 'old' || g || '@example.com'),
                           'previous', null, 'changed_fields', '[]'::jsonb, 'user', null,
                           'webhook', null, 'scheduled_for', null),
                       '[]'::jsonb, 1, 0, '{}'::jsonb, '{}'::jsonb, '', '', 'rec_old' || g,
                       t, t, t + interval '12 milliseconds', 12
                FROM generate_series(1, %(n)s) AS g,
                     LATERAL (SELECT now() - make_interval(days => %(lo)s)
                              - (g::float / %(n)s) * make_interval(days => %(span)s) AS t) AS ts
                ON CONFLICT (id) DO NOTHING
                RETURNING id, record_id, started_at, completed_at
            )
            INSERT INTO automations_actionrun (
                run_id, index, type, status, attempt, duration_ms, error_code, error_message,
                config, output, started_at, completed_at)
            SELECT id, 0, 'update_record', 'success', 1, 12, '', '',
                   '{"record": "trigger", "updates": {"status": "processed"}}'::jsonb,
                   jsonb_build_object('record_id', record_id, 'changed_fields',
                                      '["status"]'::jsonb),
                   started_at, completed_at
            FROM new_runs
            """,
            {"ids": automation_ids, "ws": workspace_id, "n": count, "lo": lo, "span": hi - lo},
        )
    vacuum_analyze("automations_run", "automations_actionrun")


# ---------------------------------------------------------------------------------------------
# Processes (started, watched and stopped by devtools.processes, as the fault tests' are)


@functools.cache
def log_dir() -> Path:
    """One folder for this benchmark run's process logs."""
    return Path(tempfile.mkdtemp(prefix="bench-logs-"))


class Worker:
    """`celery -A config worker` with the settings every scenario shares: the prefork pool
    with two processes, prefetch 1 and late acks (config.settings), log level WARNING. The
    benchmark's no-op task (bench.tasks) is loaded with --include."""

    def __init__(self, *, concurrency: int = 2, extra_env: dict[str, str] | None = None):
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.service: Service | None = None

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self.service = celery_worker(
            f"bench-worker-{uuid.uuid4().hex[:8]}",
            env=child_env(**self.extra_env),
            log_dir=log_dir(),
            concurrency=self.concurrency,
            loglevel="WARNING",
            include=["bench.tasks"],
        ).start()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every pool process exists and a no-op task has gone through."""
        from bench.tasks import noop

        await_condition(
            lambda: len(self.children()) >= self.concurrency,
            timeout=timeout,
            message="worker processes",
        )
        redis = redis_client()
        marker = f"ready-{uuid.uuid4().hex}"
        for _ in range(self.concurrency * 2):
            noop.delay(marker)
        await_condition(
            lambda: self._seen(redis, marker) >= self.concurrency * 2,
            timeout=timeout,
            interval=0.05,
            message="the worker to answer",
        )
        redis.delete(NOOP_KEY)

    @staticmethod
    def _seen(redis, marker: str) -> int:
        return sum(1 for item in redis.lrange(NOOP_KEY, 0, -1) if item.decode().startswith(marker))

    def children(self) -> list[int]:
        return self.service.children() if self.service else []

    def idle(self) -> bool:
        """Nothing left to do: no task running or reserved in the worker (asked over Celery's
        remote control), no message in the queue and no run id in the ready list."""
        from config.celery import app

        if queue_length() or ready_length():
            return False
        inspect = app.control.inspect(timeout=1.0)
        active, reserved = inspect.active(), inspect.reserved()
        if not active or reserved is None:
            return False  # no answer yet
        return not any(active.values()) and not any(reserved.values())

    def rss_kb(self) -> int:
        """Resident memory of the pool processes (the ones that execute runs)."""
        return sum(rss_kb(pid) for pid in self.children())

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=30)
            self.service = None

    def tail(self, lines: int = 20) -> str:
        if self.service is None:
            return ""
        return "\n".join(self.service.log_text().splitlines()[-lines:])


class Gunicorn:
    """The web app under gunicorn on 127.0.0.1, with the benchmark's URLconf (bench.urls: the
    product's URLs plus one bare DRF endpoint) and the README's production worker settings."""

    def __init__(self, *, workers: int = 4, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.service = gunicorn(
            f"bench-web-{uuid.uuid4().hex[:8]}",
            env=child_env(DJANGO_SETTINGS_MODULE="bench.settings", **(extra_env or {})),
            log_dir=log_dir(),
            port=self.port,
            workers=workers,
            threads=None,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        self.service.start()
        await_condition(self._up, timeout=60, message="gunicorn")
        return self

    def _up(self) -> bool:
        import requests

        if not self.service.alive:
            raise RuntimeError(f"gunicorn exited:\n{self.service.log_text(2000)}")
        try:
            return requests.get(f"{self.base}/bench/bare-anon", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def __exit__(self, *exc: Any) -> None:
        self.service.stop(timeout=30)
