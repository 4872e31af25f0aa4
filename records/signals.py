from django.dispatch import Signal

# Sent by records.services once per record change, inside the change's transaction.
# kwargs:
#   workspace: Workspace, module: Module, event: "created" | "updated" | "deleted",
#   record: dict (flat snapshot as saved; for "deleted", the last values),
#   previous: dict | None (flat snapshot before an update or delete),
#   changed_fields: list[str], actor: User | None,
#   cause: dict | None (the automation chain that made this change, if any)
record_changed = Signal()
