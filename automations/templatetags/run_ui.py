"""Template helpers of the run pages and the run charts (automations/web/runs.py, logs.py,
charts.py): a status's badge tone, a run's record and event in words, and the automations
list's sparklines for a whole page in one query."""

from __future__ import annotations

from typing import Any

from django import template

from automations.models import Run
from automations.run_queries import sparklines
from automations.web.charts import SparkChart, sparkline
from automations.web.runs import event_label, record_name
from automations.web.statuses import STATUS_TONES

register = template.Library()


@register.filter
def status_tone(status: str | None) -> str:
    return STATUS_TONES.get(status or "", "muted")


@register.simple_tag
def page_sparklines(rows: list[dict[str, Any]]) -> dict[str, SparkChart]:
    """{automation id: sparkline} for the automations list's rows (each {"automation": ...})."""
    ids = [row["automation"].id for row in rows]
    return {a: sparkline(s) for a, s in sparklines(ids).items()}


@register.filter
def run_record_name(run: Run) -> str:
    """The trigger record's name as the run saw it, else its id."""
    return record_name(run)


@register.filter
def event_words(event: str | None) -> str:
    return event_label(event)
