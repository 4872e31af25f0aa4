"""Celery tasks (autodiscovered by config.celery). The engine lives in automations.runtime."""

from celery import shared_task


@shared_task(name="automations.execute_run", acks_late=True, ignore_result=True)
def execute_run(run_id: str) -> None:
    from automations.runtime.executor import execute

    execute(run_id)


@shared_task(name="automations.execute_runs", acks_late=True, ignore_result=True)
def execute_runs(run_ids: list[str]) -> None:
    """Runs handed over together (a bulk record change, the schedule dispatcher) on the embedded
    broker, up to 1,000 per message (with Redis they go through the ready list). Each run is
    claimed on its own, so a message delivered again skips the runs already done, and one run
    that raises does not keep the others from running."""
    from automations.runtime.executor import execute
    from automations.runtime.handover import execute_each

    execute_each(execute, run_ids)


@shared_task(name="automations.drain_ready", acks_late=True, ignore_result=True)
def drain_ready() -> int:
    """Execute runs handed over through the ready list (automations.runtime.handover) until it
    stays empty; a message only wakes a worker, it carries no run."""
    from automations.runtime.executor import execute
    from automations.runtime.handover import drain

    return drain(execute)


@shared_task(name="automations.relay", ignore_result=True)
def relay() -> dict:
    """Publish due runs never handed over, and reclaim runs whose worker died (beat)."""
    from automations.runtime.relay import relay as run_relay

    return run_relay()


@shared_task(name="automations.dispatch_schedules", ignore_result=True)
def dispatch_schedules() -> int:
    """Start the runs of due schedule triggers (beat)."""
    from automations.runtime.schedules import dispatch_due

    return dispatch_due()


@shared_task(name="automations.purge_logs", ignore_result=True)
def purge_logs() -> dict:
    """Delete finished runs older than AUTOMATIONS_LOG_RETENTION_DAYS (beat, daily)."""
    from automations.runtime.retention import purge

    return purge()
