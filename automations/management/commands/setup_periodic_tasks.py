from django.core.management.base import BaseCommand, CommandError

from automations.runtime.periodic import setup_periodic_tasks


class Command(BaseCommand):
    help = "Create (idempotently) the periodic tasks the automation engine needs in celery beat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args, database: str, **options) -> None:
        names = setup_periodic_tasks(using=database)
        if not names:
            raise CommandError("django_celery_beat tables are missing; run migrate first")
        for name in names:
            self.stdout.write(f"ok: {name}")
