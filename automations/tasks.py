"""Celery tasks (autodiscovered by config.celery). The engine lives in automations.runtime."""

from celery import shared_task


@shared_task(name="automations.execute_run", acks_late=True, ignore_result=True)
def execute_run(run_id: str) -> None:
    from automations.runtime.executor import execute

    execute(run_id)
