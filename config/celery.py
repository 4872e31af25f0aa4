import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Around each task, as Django does around each request: close the database connections
    that are broken or older than CONN_MAX_AGE, keep the others (settings.CELERY_DB_REUSE_MAX
    stops Celery from closing every connection after every task)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _commit_without_waiting_for_the_disk(**kwargs) -> None:
    """In worker processes (pool processes inherit this), every PostgreSQL connection commits
    asynchronously when settings.AUTOMATIONS_WORKER_ASYNC_COMMIT is on: a run's execution
    then does not wait for the WAL flush (what that saves: bench/README.md, "Notes from
    measurements")."""
    from django.conf import settings
    from django.db.backends.signals import connection_created

    if settings.AUTOMATIONS_WORKER_ASYNC_COMMIT:
        connection_created.connect(_async_commit, weak=False, dispatch_uid="async-commit")


def _async_commit(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        # Read by automations.runtime.runs: a transaction that creates runs commits durably.
        connection.commits_asynchronously = True
