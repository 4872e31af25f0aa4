"""Reads of runs across a workspace: the Runs page's filtered keyset pages, the runs that
touched a record, live statuses for polling, and the aggregates the run charts draw.

Every read is scoped to one workspace and shaped so that its cost does not grow with the
number of runs the workspace has: the list pages by keyset (a cursor of created_at and id,
never OFFSET), searches by record name go through a bounded list of record ids, and the
charts aggregate one automation's (or one page of automations') recent days in the database.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.models import Workspace
from automations.models import ActionRun, Automation, Run
from records.models import Record

# A search by record name matches at most this many records (newest first); their runs are
# then found through the run_record_id index. Bounds the search on workspaces of any size.
SEARCH_RECORD_LIMIT = 200
# At most this many ids per poll of live statuses (a page shows far fewer runs).
STATUS_IDS_LIMIT = 200
# Action types whose output names a record they wrote, and what they did to it.
RECORD_WRITES = {"create_record": "created", "update_record": "updated"}


@dataclass(frozen=True)
class RunFilters:
    """What the Runs page narrows runs by; empty fields do not filter."""

    status: str = ""
    automation_id: str = ""
    module: str = ""
    record_id: str = ""
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    search: str = ""


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: the (created_at, id) of a run."""

    created_at: datetime
    run_id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.run_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """None for a missing or malformed token (the page then starts at the newest run)."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, run_id = raw.split("|", 1)
            created_at = datetime.fromisoformat(stamp)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if created_at.tzinfo is None or not run_id:
            return None
        return cls(created_at, run_id)

    @classmethod
    def of(cls, run: Run) -> Cursor:
        return cls(run.created_at, run.id)


@dataclass
class RunPage:
    """One page of runs, newest first, with cursors to the older and newer neighbours."""

    runs: list[Run]
    older: Cursor | None = None
    newer: Cursor | None = None


def workspace_runs(workspace: Workspace, filters: RunFilters) -> QuerySet[Run] | None:
    """The workspace's runs narrowed by `filters`, unordered; None when nothing can match
    (a search that matches no record). Indexes: run_workspace_created and
    run_workspace_status; run_automation_created for one automation; run_record_id."""
    runs = Run.objects.filter(workspace=workspace)
    if filters.status:
        runs = runs.filter(status=filters.status)
    if filters.automation_id:
        runs = runs.filter(automation_id=filters.automation_id)
    if filters.module:
        # A module has few automations: their ids, not a join, keep the run index usable.
        ids = list(
            Automation.objects.filter(workspace=workspace, module__slug=filters.module).values_list(
                "id", flat=True
            )
        )
        runs = runs.filter(automation_id__in=ids)
    if filters.record_id:
        runs = runs.filter(record_id=filters.record_id)
    if filters.since is not None:
        runs = runs.filter(created_at__gte=filters.since)
    if filters.until is not None:
        runs = runs.filter(created_at__lt=filters.until)
    if filters.search:
        record_ids = records_named(workspace, filters.search)
        if not record_ids:
            return None
        runs = runs.filter(record_id__in=record_ids)
    return runs


def records_named(workspace: Workspace, text: str) -> list[str]:
    """Ids of at most SEARCH_RECORD_LIMIT records whose name contains `text`, newest first."""
    return list(
        Record.objects.filter(workspace=workspace, values__name__icontains=text)
        .order_by("-created_at")
        .values_list("id", flat=True)[:SEARCH_RECORD_LIMIT]
    )


def runs_page(
    workspace: Workspace,
    filters: RunFilters,
    *,
    per_page: int,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> RunPage:
    """The page of runs older than `before` (or newer than `after`, or the newest), with
    the automation and its module: one query for the page whatever its depth, since the
    cursor bounds the index range instead of skipping rows."""
    runs = workspace_runs(workspace, filters)
    if runs is None:
        return RunPage(runs=[])
    runs = runs.select_related("automation", "automation__module")
    if after is not None:
        # Newer than the cursor: walk up from it, then show the page newest first.
        # The plain `created_at >= ...` bounds the index range; the OR breaks ties by id.
        page = list(
            runs.filter(created_at__gte=after.created_at)
            .filter(
                Q(created_at__gt=after.created_at)
                | Q(created_at=after.created_at, id__gt=after.run_id)
            )
            .order_by("created_at", "id")[: per_page + 1]
        )
        more_newer = len(page) > per_page
        page = page[:per_page][::-1]
        return RunPage(
            runs=page,
            newer=Cursor.of(page[0]) if page and more_newer else None,
            older=Cursor.of(page[-1]) if page else None,
        )
    if before is not None:
        runs = runs.filter(created_at__lte=before.created_at).filter(
            Q(created_at__lt=before.created_at)
            | Q(created_at=before.created_at, id__lt=before.run_id)
        )
    page = list(runs.order_by("-created_at", "-id")[: per_page + 1])
    more_older = len(page) > per_page
    page = page[:per_page]
    return RunPage(
        runs=page,
        older=Cursor.of(page[-1]) if page and more_older else None,
        newer=Cursor.of(page[0]) if page and before is not None else None,
    )


@dataclass(frozen=True)
class RecordTouch:
    """A run that concerned a record, and how: it was the trigger, or an action wrote it."""

    run: Run
    how: str  # "triggered", "created" or "updated"


def runs_touching_record(workspace: Workspace, record_id: str, *, limit: int) -> list[RecordTouch]:
    """The newest `limit` runs a record triggered or whose actions created or updated it.
    Two indexed reads: action_run_output_record for the writes, run_record_id for the rest."""
    # A plain Exact, not `output__record_id=`: its left side is the index's expression as it
    # is (output ->> 'record_id'), and the right side a text, not a JSON value.
    written = Exact(KeyTextTransform("record_id", "output"), Value(record_id, TextField()))
    writes = (
        ActionRun.objects.filter(written, type__in=list(RECORD_WRITES), run__workspace=workspace)
        .order_by()
        .values_list("run_id", "type")[: limit * 2]
    )
    how_by_run: dict[str, str] = {}
    for run_id, action_type in writes:
        # "created" wins over a later "updated" of the same run: it says more.
        if how_by_run.get(run_id) != "created":
            how_by_run[run_id] = RECORD_WRITES[action_type]
    runs = (
        Run.objects.filter(workspace=workspace)
        .filter(Q(record_id=record_id) | Q(id__in=list(how_by_run)))
        .select_related("automation")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        RecordTouch(run, "triggered" if run.record_id == record_id else how_by_run[run.id])
        for run in runs
    ]


def run_statuses(workspace: Workspace, run_ids: Iterable[str]) -> dict[str, str]:
    """{run id: status} of the workspace's runs among `run_ids` (others are left out)."""
    ids = list(dict.fromkeys(run_ids))[:STATUS_IDS_LIMIT]
    if not ids:
        return {}
    rows = Run.objects.filter(workspace=workspace, id__in=ids).values_list("id", "status")
    return dict(rows)


def written_records(workspace: Workspace, action_runs: Sequence[ActionRun]) -> dict[str, Record]:
    """The records that `action_runs` created or updated, by id (deleted ones are missing)."""
    ids = {
        str(ar.output["record_id"])
        for ar in action_runs
        if isinstance(ar.output, dict) and ar.output.get("record_id")
    }
    if not ids:
        return {}
    records = Record.objects.filter(workspace=workspace, id__in=ids).select_related("module")
    return {r.id: r for r in records}


# -- Chart aggregates ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayOutcomes:
    day: date
    success: int = 0
    failed: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.success + self.failed + self.other


def _days(days: int, now: datetime | None) -> tuple[list[date], datetime]:
    """The last `days` UTC days ending today, and the start of the first of them."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return [first + timedelta(days=i) for i in range(days)], start


def _bucket(status: str) -> str:
    if status == Run.Status.SUCCESS:
        return "success"
    if status == Run.Status.FAILED:
        return "failed"
    return "other"


def daily_outcomes(
    automation: Automation, *, days: int = 30, now: datetime | None = None
) -> list[DayOutcomes]:
    """Runs per UTC day of the last `days` days by outcome, oldest first, every day present.
    One grouped query over run_automation_created's range."""
    day_list, start = _days(days, now)
    rows = (
        Run.objects.filter(automation=automation, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[date, dict[str, int]] = {
        d: {"success": 0, "failed": 0, "other": 0} for d in day_list
    }
    for row in rows:
        bucket = counts.get(row["day"])
        if bucket is not None:
            bucket[_bucket(row["status"])] += row["n"]
    return [DayOutcomes(d, **counts[d]) for d in day_list]


@dataclass(frozen=True)
class Durations:
    """Nearest-rank percentiles of finished runs' durations, in milliseconds."""

    count: int
    p50: int | None
    p95: int | None


def duration_percentiles(
    automation: Automation, *, days: int = 30, now: datetime | None = None
) -> Durations:
    """p50 and p95 of the durations of the automation's runs of the last `days` days: a
    count, then one row picked at each rank by the database (no rows are fetched to Python)."""
    _, start = _days(days, now)
    timed = Run.objects.filter(
        automation=automation, created_at__gte=start, duration_ms__isnull=False
    )
    count = timed.count()
    if count == 0:
        return Durations(0, None, None)
    ordered = timed.order_by("duration_ms").values_list("duration_ms", flat=True)

    def at(fraction: float) -> int:
        rank = max(math.ceil(fraction * count), 1) - 1
        value = ordered[rank]
        return int(value) if value is not None else 0

    return Durations(count, at(0.50), at(0.95))


@dataclass(frozen=True)
class Sparkline:
    counts: list[int]
    failed: int

    @property
    def total(self) -> int:
        return sum(self.counts)


def sparklines(
    automation_ids: Sequence[str], *, days: int = 14, now: datetime | None = None
) -> dict[str, Sparkline]:
    """Runs per UTC day of the last `days` days for each automation of a page, in one grouped
    query (run_automation_created serves each automation's range)."""
    day_list, start = _days(days, now)
    index = {d: i for i, d in enumerate(day_list)}
    counts = {a: [0] * days for a in automation_ids}
    failed = dict.fromkeys(automation_ids, 0)
    if automation_ids:
        rows = (
            Run.objects.filter(automation_id__in=list(automation_ids), created_at__gte=start)
            .annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("automation_id", "day", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            i = index.get(row["day"])
            if i is None:
                continue
            counts[row["automation_id"]][i] += row["n"]
            if row["status"] == Run.Status.FAILED:
                failed[row["automation_id"]] += row["n"]
    return {a: Sparkline(counts[a], failed[a]) for a in automation_ids}
