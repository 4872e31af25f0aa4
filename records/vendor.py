"""The vendor modules every workspace starts with, with the fields the seed's examples use, and
the rules that belong to one vendor module (how a person's name is derived)."""

from collections.abc import Mapping
from typing import Any

STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]
PRIORITIES = ["low", "medium", "high", "urgent"]

_COMMON = [
    {"key": "status", "label": "Status", "type": "text"},
    {"key": "owner_id", "label": "Owner", "type": "user"},
    {"key": "processed_at", "label": "Processed at", "type": "datetime"},
]

VENDOR_MODULES: list[dict] = [
    {
        "slug": "contacts",
        "name": "Contacts",
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "first_name", "label": "First name", "type": "text"},
            {"key": "last_name", "label": "Last name", "type": "text"},
            {"key": "email", "label": "Email", "type": "email"},
            {"key": "phone", "label": "Phone", "type": "text"},
            {"key": "company", "label": "Company", "type": "text"},
            {"key": "source", "label": "Source", "type": "text"},
            {
                "key": "account_id",
                "label": "Account",
                "type": "reference",
                "reference_module": "accounts",
            },
            {"key": "last_contact_date", "label": "Last contact date", "type": "date"},
            *_COMMON,
        ],
    },
    {
        "slug": "leads",
        "name": "Leads",
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "first_name", "label": "First name", "type": "text"},
            {"key": "email", "label": "Email", "type": "email"},
            {"key": "company", "label": "Company", "type": "text"},
            {"key": "source", "label": "Source", "type": "text"},
            {"key": "score", "label": "Score", "type": "number"},
            *_COMMON,
        ],
    },
    {
        "slug": "deals",
        "name": "Deals",
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "value", "label": "Value", "type": "number"},
            {"key": "stage", "label": "Stage", "type": "select", "options": STAGES},
            {
                "key": "account_id",
                "label": "Account",
                "type": "reference",
                "reference_module": "accounts",
            },
            {
                "key": "related_contact",
                "label": "Contact",
                "type": "reference",
                "reference_module": "contacts",
            },
            {"key": "close_date", "label": "Close date", "type": "date"},
            *_COMMON,
        ],
    },
    {
        "slug": "tasks",
        "name": "Tasks",
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "description", "label": "Description", "type": "text"},
            {"key": "due_date", "label": "Due date", "type": "date"},
            {"key": "assigned_to", "label": "Assigned to", "type": "user"},
            {"key": "priority", "label": "Priority", "type": "select", "options": PRIORITIES},
            {
                "key": "related_contact",
                "label": "Contact",
                "type": "reference",
                "reference_module": "contacts",
            },
            {"key": "done", "label": "Done", "type": "boolean"},
            *_COMMON,
        ],
    },
    {
        "slug": "accounts",
        "name": "Accounts",
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "industry", "label": "Industry", "type": "text"},
            {"key": "website", "label": "Website", "type": "url"},
            {"key": "last_contact_date", "label": "Last contact date", "type": "date"},
            *_COMMON,
        ],
    },
]


# Vendor modules whose records are people. Their "name" may be left out: a form, an import or
# an API client that knows a first name, last name or email should not have to repeat it.
PERSON_MODULES = frozenset({"contacts", "leads"})


def person_name(values: Mapping[str, Any]) -> str | None:
    """The name a person record gets when none is given: "first_name last_name" (either may
    be missing), else the email; None when there is nothing to derive it from."""
    parts = (values.get("first_name"), values.get("last_name"))
    full = " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())
    if full:
        return full
    email = values.get("email")
    return str(email).strip() or None if email is not None else None
