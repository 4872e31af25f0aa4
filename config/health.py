"""`GET /healthz`: whether the database and the broker answer, for load balancers and monitors.

It needs no sign-in, so it says only ok/failing per component: an error's text names hosts and
ports (`connection to 10.0.3.7:5432 refused`), which is for operators. Staff signed in to the
admin see it in the response; everyone else's failures are logged with it.
"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def _database_error() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure means "down"; the message says why
        return str(exc)[:200] or type(exc).__name__


def _broker_error() -> str | None:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:
        return str(exc)[:200] or type(exc).__name__


def healthz(request: HttpRequest) -> JsonResponse:
    errors = {"database": _database_error(), "broker": _broker_error()}
    user = getattr(request, "user", None)
    show_errors = bool(user is not None and user.is_active and user.is_staff)
    body: dict = {"status": "ok" if not any(errors.values()) else "degraded"}
    for component, error in errors.items():
        if error is not None:
            logger.warning("healthz: %s failing: %s", component, error)
        detail = "ok" if error is None else (error if show_errors else "failing")
        body[component] = {"ok": error is None, "detail": detail}
    response = JsonResponse(body, status=200 if body["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response
