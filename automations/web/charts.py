"""Geometry of the server-rendered SVG run charts: stacked bars of runs per day by outcome
(an automation's page) and the automations list's sparklines. Plain numbers for the
templates in templates/web/charts/, which draw them with SVG attributes only (the
Content-Security-Policy forbids style attributes) and give each a text alternative."""

from __future__ import annotations

from dataclasses import dataclass

from automations.run_queries import DayOutcomes, Sparkline

# Colours by outcome, with contrast enough against the white card (WCAG non-text 3:1).
COLOURS = {"success": "#1a7f37", "failed": "#cf222e", "other": "#8c959f"}
BAR_WIDTH = 14
BAR_GAP = 4
BARS_HEIGHT = 120
SPARK_WIDTH = 112
SPARK_HEIGHT = 24


@dataclass(frozen=True)
class Segment:
    outcome: str
    colour: str
    y: float
    height: float
    count: int


@dataclass(frozen=True)
class Bar:
    x: int
    day: DayOutcomes
    segments: list[Segment]


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    totals: dict[str, int]
    summary: str


def daily_bars(days: list[DayOutcomes]) -> BarChart:
    """One bar per day, success at the bottom, then failed, then other, scaled to the
    busiest day."""
    peak = max((d.total for d in days), default=0)
    scale = BARS_HEIGHT / peak if peak else 0.0
    bars = []
    for i, day in enumerate(days):
        top = float(BARS_HEIGHT)
        segments = []
        for outcome in ("success", "failed", "other"):
            count = getattr(day, outcome)
            if not count:
                continue
            height = count * scale
            top -= height
            segments.append(
                Segment(outcome, COLOURS[outcome], round(top, 2), round(height, 2), count)
            )
        bars.append(Bar(i * (BAR_WIDTH + BAR_GAP), day, segments))
    totals = {o: sum(getattr(d, o) for d in days) for o in ("success", "failed", "other")}
    summary = (
        f"{sum(totals.values())} runs in the last {len(days)} days: "
        f"{totals['success']} succeeded, {totals['failed']} failed, {totals['other']} other."
    )
    return BarChart(
        width=len(days) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
        height=BARS_HEIGHT,
        bars=bars,
        peak=peak,
        totals=totals,
        summary=summary,
    )


@dataclass(frozen=True)
class SparkChart:
    width: int
    height: int
    points: str
    total: int
    failed: int
    summary: str


def sparkline(spark: Sparkline) -> SparkChart:
    """A polyline of runs per day, scaled to the busiest day (a flat line when none ran)."""
    counts = spark.counts
    peak = max(counts, default=0)
    step = SPARK_WIDTH / max(len(counts) - 1, 1)
    usable = SPARK_HEIGHT - 2  # one pixel of room above and below the stroke
    points = " ".join(
        f"{round(i * step, 1)},{round(SPARK_HEIGHT - 1 - (c / peak * usable if peak else 0), 1)}"
        for i, c in enumerate(counts)
    )
    summary = f"{spark.total} runs in the last {len(counts)} days, {spark.failed} failed"
    return SparkChart(SPARK_WIDTH, SPARK_HEIGHT, points, spark.total, spark.failed, summary)
