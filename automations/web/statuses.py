"""How the UI shows a run's or an action's status: the badge tone of each status (the
templates' status_badge and status_tone, and the live-status endpoint that pages poll)."""

STATUS_TONES = {
    "success": "ok",
    "failed": "bad",
    "blocked": "bad",
    "running": "busy",
    "pending": "busy",
    "waiting": "busy",
    "retrying": "warn",
    "skipped": "muted",
}
