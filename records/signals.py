from dataclasses import dataclass

from django.dispatch import Signal

# Sent by records.services once per record change, inside the change's transaction.
# kwargs:
#   workspace: Workspace, module: Module, event: "created" | "updated" | "deleted",
#   record: dict (flat snapshot as saved; for "deleted", the last values),
#   previous: dict | None (flat snapshot before an update or delete),
#   changed_fields: list[str], actor: User | None,
#   cause: dict | None (the automation chain that made this change, if any),
#   fields: list[Field] (the module's fields, so that receivers need not load them again)
record_changed = Signal()

# Sent by records.services.records_bulk_update once per batch of up to 1,000 changed records,
# inside the batch's transaction, instead of one record_changed per record.
# kwargs: workspace, module, event ("updated"), changes: list[RecordChange], actor, cause,
# fields.
records_changed = Signal()


@dataclass(frozen=True)
class RecordChange:
    record: dict
    previous: dict | None
    changed_fields: list[str]
