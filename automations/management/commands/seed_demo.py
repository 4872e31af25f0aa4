"""Fill a demo workspace with records and the seed's example automations (idempotent)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership
from accounts.selectors import api_key_by_plain
from accounts.services import api_key_create, membership_ensure, workspace_get_or_create
from automations.models import Automation
from automations.services import automation_create, automation_set_enabled
from records.models import Record
from records.services import record_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105  (a local demo login, printed on purpose)


# The seed's examples are what a newcomer creates first, by copying them from the API guide: an
# enabled demo copy would run beside theirs, and every email, notification and task would come
# twice. So the copies start disabled and say why where they are listed.
EXAMPLE_NOTE = "Disabled demo copy of an API guide example (so it cannot run twice beside yours)."


def demo_automations(owner_id: int) -> list[dict]:
    """The seed's examples (disabled, see EXAMPLE_NOTE), plus a manual one for the record
    page's button, which runs only when pressed and is enabled."""
    return [
        {
            "name": "Welcome email for new contacts",
            "description": f"{EXAMPLE_NOTE} Sends a welcome email when a contact is added.",
            "trigger": {"type": "record.created", "module": "contacts"},
            "conditions": [{"field": "email", "operator": "is_not_empty"}],
            "actions": [
                {
                    "type": "send_email",
                    "config": {
                        "to": "{{record.email}}",
                        "template": "welcome_email",
                        "data": {
                            "first_name": "{{record.first_name}}",
                            "company": "{{record.company}}",
                        },
                    },
                },
            ],
            "enabled": False,
        },
        {
            "name": "High-value deal notification",
            "description": EXAMPLE_NOTE,
            "trigger": {"type": "record.created", "module": "deals"},
            "conditions": [{"field": "value", "operator": "greater_than", "value": 50000}],
            "actions": [
                {
                    "type": "send_notification",
                    "config": {
                        "user_id": "{{record.owner_id | default: " + str(owner_id) + "}}",
                        "title": "High-value deal created",
                        "message": "{{record.name}} - ${{record.value}}",
                        "link": "/records/deals/{{record.id}}",
                    },
                },
            ],
            "enabled": False,
        },
        {
            "name": "Create follow-up on stage change",
            "description": EXAMPLE_NOTE,
            "trigger": {"type": "field.changed", "module": "deals", "field": "stage"},
            "conditions": [{"field": "stage", "operator": "changed_to", "value": "proposal"}],
            "actions": [
                {
                    "type": "create_record",
                    "config": {
                        "module": "tasks",
                        "data": {
                            "name": "Send proposal to {{record.name}}",
                            "due_date": "{{now | add_days: 2}}",
                            "assigned_to": "{{record.owner_id}}",
                            "priority": "high",
                        },
                    },
                },
            ],
            "enabled": False,
        },
        {
            "name": "Daily deals summary",
            "description": f"{EXAMPLE_NOTE} Calls an external service: set a real URL first.",
            "trigger": {"type": "schedule", "schedule": "0 9 * * 1-5"},
            "actions": [
                {
                    "type": "call_webhook",
                    "config": {
                        "url": "https://your-app.com/api/generate-summary",
                        "method": "POST",
                    },
                },
            ],
            "enabled": False,
        },
        {
            "name": "Mark contact as contacted",
            "trigger": {"type": "manual", "module": "contacts"},
            "actions": [
                {
                    "type": "update_record",
                    "config": {
                        "record": "trigger",
                        "updates": {"status": "contacted", "last_contact_date": "{{now}}"},
                    },
                },
            ],
            "enabled": True,
        },
    ]


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo workspace; prints a login and an API key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", default="demo")

    def handle(self, *args, workspace: str, **options) -> None:
        with transaction.atomic():
            ws, _ = workspace_get_or_create(slug=workspace, name="Demo")
            user = self._demo_user()
            membership_ensure(workspace=ws, user=user, role=Membership.Role.OWNER)
            self._records(ws, user)
            self._automations(ws, user)
        key = self._api_key(ws, user)
        self.stdout.write(f"Login:   {DEMO_EMAIL} / {DEMO_PASSWORD}  (username: demo)")
        self.stdout.write(f"API key: {key}")
        self.stdout.write(
            "The demo's copies of the API guide's examples are disabled (enable them on the"
            " Automations page), so examples you create yourself do not run twice."
        )

    def _demo_user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username="demo", defaults={"email": DEMO_EMAIL, "is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _records(self, ws, user) -> None:
        if Record.objects.filter(workspace=ws).exists():
            return
        modules = {m.slug: m for m in ws.modules.all()}
        account = record_create(
            module=modules["accounts"],
            actor=user,
            data={"name": "Initech", "industry": "Software", "website": "https://initech.example"},
        )
        contact = record_create(
            module=modules["contacts"],
            actor=user,
            data={
                "name": "Peter Gibbons",
                "first_name": "Peter",
                "email": "peter@initech.example",
                "company": "Initech",
                "source": "website",
                "account_id": account.id,
                "owner_id": user.id,
            },
        )
        record_create(
            module=modules["leads"],
            actor=user,
            data={
                "name": "Milton Waddams",
                "email": "milton@initech.example",
                "source": "referral",
                "status": "new",
                "owner_id": user.id,
            },
        )
        record_create(
            module=modules["deals"],
            actor=user,
            data={
                "name": "Initech renewal",
                "value": 75000,
                "stage": "qualification",
                "account_id": account.id,
                "related_contact": contact.id,
                "owner_id": user.id,
            },
        )

    def _automations(self, ws, user) -> None:
        existing = set(Automation.objects.filter(workspace=ws).values_list("name", flat=True))
        for spec in demo_automations(user.id):
            if spec["name"] in existing:
                continue
            enabled = spec.pop("enabled")
            automation = automation_create(workspace=ws, user=user, data=spec)
            if enabled:
                automation_set_enabled(automation=automation, enabled=True)

    def _api_key(self, ws, user) -> str:
        # Keys are stored hashed; the demo keeps its plain key under var/ so that re-running
        # prints the same working key instead of minting a new one each time.
        key_file = settings.VAR_DIR / f"{ws.slug}_api_key"
        if key_file.exists():
            plain = key_file.read_text().strip()
            if api_key_by_plain(plain) is not None:
                return plain
        _, plain = api_key_create(workspace=ws, user=user, name="demo")
        key_file.write_text(plain)
        key_file.chmod(0o600)
        return plain
