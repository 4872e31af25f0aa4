"""Starter email templates every workspace gets (editable at /v1/email_templates)."""

from accounts.models import Workspace
from automations.models import EmailTemplate

STARTER_TEMPLATES = [
    {
        "name": "welcome_email",
        "subject": "Welcome{% if first_name %}, {{ first_name }}{% endif %}!",
        "body": (
            "Hi {{ first_name | default: 'there' }},\n\n"
            "Thank you for signing up{% if company %} with {{ company }}{% endif %}. "
            "We're glad to have you.\n\n"
            "Reply to this email if there is anything we can help with."
        ),
    },
    {
        "name": "follow_up",
        "subject": "Following up, {{ first_name | default: record.name }}",
        "body": (
            "Hi {{ first_name | default: record.name }},\n\n"
            "Just checking in on our last conversation. Is there anything else you need?"
        ),
    },
    {
        "name": "deal_won",
        "subject": "Deal won: {{ record.name }}",
        "body": "The deal {{ record.name }} was closed for {{ record.value }}.",
    },
]


def seed_starter_templates(*, workspace: Workspace) -> None:
    existing = set(EmailTemplate.objects.filter(workspace=workspace).values_list("name", flat=True))
    EmailTemplate.objects.bulk_create(
        EmailTemplate(workspace=workspace, **spec)
        for spec in STARTER_TEMPLATES
        if spec["name"] not in existing
    )
