"""The engine's entrances from other apps: record changes and new workspaces."""

from django.dispatch import receiver

from accounts.signals import workspace_created
from automations.email_templates import seed_starter_templates


@receiver(workspace_created, dispatch_uid="automations.seed_starter_templates")
def _seed_email_templates(sender, workspace, **kwargs) -> None:
    seed_starter_templates(workspace=workspace)
