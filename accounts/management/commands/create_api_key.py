from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import Membership
from accounts.services import (
    api_key_create,
    membership_ensure,
    user_get_or_create,
    workspace_get_or_create,
)


class Command(BaseCommand):
    help = (
        "Create an API key for a workspace (creating the workspace, with its vendor modules and "
        "starter email templates, if missing). Prints the key alone on the last line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug")
        parser.add_argument(
            "--email",
            default="admin@example.com",
            help="The user the key acts as (created if missing)",
        )
        parser.add_argument("--name", default="", help="A label for the key")

    def handle(self, *args, workspace: str, email: str, name: str, **options) -> None:
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email {email!r} is not an email address") from None
        with transaction.atomic():
            ws, ws_created = workspace_get_or_create(slug=workspace)
            user, user_created = user_get_or_create(email=email)
            has_owner = Membership.objects.filter(workspace=ws, role="owner").exists()
            membership_ensure(
                workspace=ws,
                user=user,
                role=Membership.Role.MEMBER if has_owner else Membership.Role.OWNER,
            )
            _, plain = api_key_create(workspace=ws, user=user, name=name)
        if ws_created:
            self.stderr.write(f"Created workspace {ws.slug}")
        if user_created:
            email_shown = user.email
            self.stderr.write(f"Created user {email_shown} (set a password with changepassword)")
        self.stdout.write(plain)
