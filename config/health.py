from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any failure means "down"; the message says why
        return False, str(exc)[:200]


def _broker_ok() -> tuple[bool, str]:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:
        return False, str(exc)[:200]


def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_msg = _database_ok()
    broker_ok, broker_msg = _broker_ok()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": {"ok": db_ok, "detail": db_msg},
            "broker": {"ok": broker_ok, "detail": broker_msg},
        },
        status=200 if healthy else 503,
    )
