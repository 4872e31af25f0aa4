"""Small builders for test data; they go through the services like real callers do."""

from typing import Any

from records.models import Record
from records.services import record_create


def make_record(tenant, module_slug: str, **values: Any) -> Record:
    return record_create(module=tenant.module(module_slug), data=values, actor=tenant.user)
