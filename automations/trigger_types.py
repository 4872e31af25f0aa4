"""Trigger types and what each one gives templates and conditions."""

RECORD_CREATED = "record.created"
RECORD_UPDATED = "record.updated"
RECORD_DELETED = "record.deleted"
FIELD_CHANGED = "field.changed"
SCHEDULE = "schedule"
WEBHOOK = "webhook"
MANUAL = "manual"

TRIGGER_TYPES = (
    RECORD_CREATED,
    RECORD_UPDATED,
    RECORD_DELETED,
    FIELD_CHANGED,
    SCHEDULE,
    WEBHOOK,
    MANUAL,
)
# Record events from records.signals.record_changed, by its `event` kwarg.
RECORD_EVENT_TRIGGERS = {
    "created": (RECORD_CREATED,),
    "updated": (RECORD_UPDATED, FIELD_CHANGED),
    "deleted": (RECORD_DELETED,),
}
# Triggers that name a module, and so have a `record` in their context.
MODULE_TRIGGERS = frozenset({RECORD_CREATED, RECORD_UPDATED, RECORD_DELETED, FIELD_CHANGED, MANUAL})
# Triggers with previous values (`previous.*`, changed* operators).
PREVIOUS_TRIGGERS = frozenset({RECORD_UPDATED, FIELD_CHANGED})


def template_roots(trigger_type: str) -> set[str]:
    """Variables a template of an automation with this trigger may use."""
    roots = {"now", "trigger"}
    if trigger_type in MODULE_TRIGGERS:
        roots |= {"record", "user"}
    if trigger_type in PREVIOUS_TRIGGERS:
        roots.add("previous")
    if trigger_type == WEBHOOK:
        roots.add("webhook")
    return roots
