"""The engine's entrances from other apps: record changes and new workspaces."""

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from accounts.signals import workspace_created
from automations.email_templates import seed_starter_templates
from automations.models import Automation
from automations.runtime import matching
from automations.runtime.periodic import setup_periodic_tasks
from automations.runtime.triggers import on_record_changed, on_records_changed
from records.signals import record_changed, records_changed


@receiver(workspace_created, dispatch_uid="automations.seed_starter_templates")
def _seed_email_templates(sender, workspace, **kwargs) -> None:
    seed_starter_templates(workspace=workspace)


# The only entrance for record triggers (records never imports automations).
record_changed.connect(on_record_changed, dispatch_uid="automations.record_changed")
records_changed.connect(on_records_changed, dispatch_uid="automations.records_changed")


@receiver(post_save, sender=Automation, dispatch_uid="automations.invalidate_on_save")
@receiver(post_delete, sender=Automation, dispatch_uid="automations.invalidate_on_delete")
def _invalidate_matching(sender, instance: Automation, **kwargs) -> None:
    # automations.services invalidates too; this also covers the admin and direct saves.
    workspace_id = instance.workspace_id
    transaction.on_commit(lambda: matching.invalidate(workspace_id))


def _periodic_tasks(sender, using: str = "default", **kwargs) -> None:
    setup_periodic_tasks(using=using)


post_migrate.connect(
    _periodic_tasks,
    sender=apps.get_app_config("automations"),
    dispatch_uid="automations.setup_periodic_tasks",
)
