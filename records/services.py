"""Every record change goes through these functions; each sends one `record_changed` signal
inside its transaction, which is the only way the automation engine learns of changes."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Workspace
from config.api.parsers import enforce_json_policy
from config.errors import DomainError, ValidationFailed
from primitives.timestamps import iso
from records.fieldtypes import FieldValueError, clean_value
from records.models import Field, Module, Record
from records.selectors import module_fields
from records.signals import RecordChange, record_changed, records_changed
from records.sql import insert_record, write_values
from records.vendor import VENDOR_MODULES

SYSTEM_KEYS = frozenset({"id", "module", "created_at", "updated_at"})
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def seed_vendor_modules(*, workspace: Workspace) -> None:
    for spec in VENDOR_MODULES:
        module, created = Module.objects.get_or_create(
            workspace=workspace,
            slug=spec["slug"],
            defaults={"name": spec["name"], "kind": Module.Kind.VENDOR},
        )
        if not created:
            continue
        Field.objects.bulk_create(
            Field(
                module=module,
                position=position,
                key=f["key"],
                label=f["label"],
                type=f["type"],
                required=f.get("required", False),
                options=f.get("options", []),
                reference_module=f.get("reference_module", ""),
            )
            for position, f in enumerate(spec["fields"])
        )


def module_create(*, workspace: Workspace, slug: str, name: str) -> Module:
    problems = []
    if not slug or slugify(slug) != slug or len(slug) > 64:
        problems.append(("slug", "must be lowercase letters, digits, '-' or '_' (max 64)"))
    if not name or len(name) > 100:
        problems.append(("name", "is required (max 100 characters)"))
    if problems:
        raise ValidationFailed(problems)
    try:
        with transaction.atomic():
            return Module.objects.create(workspace=workspace, slug=slug, name=name)
    except IntegrityError:
        raise ValidationFailed([("slug", f"a module '{slug}' already exists")]) from None


def field_create(
    *,
    module: Module,
    key: str,
    label: str,
    type: str,
    required: bool = False,
    options: list[str] | None = None,
    reference_module: str = "",
) -> Field:
    problems: list[tuple[str, str]] = []
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(("key", "must start with a letter; lowercase letters, digits and _"))
    elif key in SYSTEM_KEYS:
        problems.append(("key", f"'{key}' is reserved"))
    if not label or len(label) > 100:
        problems.append(("label", "is required (max 100 characters)"))
    if type not in Field.Type.values:
        problems.append(("type", f"must be one of {', '.join(Field.Type.values)}"))
    options = options or []
    if type == Field.Type.SELECT:
        if not options or not all(isinstance(o, str) and o for o in options):
            problems.append(("options", "a select field needs a list of non-empty strings"))
        elif len(set(options)) != len(options):
            problems.append(("options", "options must be unique"))
    elif options:
        problems.append(("options", "only select fields have options"))
    if type == Field.Type.REFERENCE:
        if not Module.objects.filter(workspace=module.workspace, slug=reference_module).exists():
            problems.append(("reference_module", "must name a module of this workspace"))
    elif reference_module:
        problems.append(("reference_module", "only reference fields point to a module"))
    if problems:
        raise ValidationFailed(problems)
    position = module.fields.count()
    try:
        with transaction.atomic():
            return Field.objects.create(
                module=module,
                key=key,
                label=label,
                type=type,
                required=required,
                options=options,
                reference_module=reference_module,
                position=position,
            )
    except IntegrityError:
        raise ValidationFailed([("key", f"field '{key}' already exists in this module")]) from None


def record_snapshot(record: Record, fields: list[Field]) -> dict[str, Any]:
    """The flat dict the API returns and templates/conditions see as `record`."""
    snapshot: dict[str, Any] = {"id": record.id, "module": record.module.slug}
    for field in fields:
        snapshot[field.key] = record.values.get(field.key)
    snapshot["created_at"] = iso(record.created_at)
    snapshot["updated_at"] = iso(record.updated_at)
    return snapshot


def _clean_values(
    *, module: Module, fields: list[Field], data: Mapping[str, Any], partial: bool
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationFailed([("", "record data must be an object of field values")])
    enforce_json_policy(dict(data))  # every entrance: API, forms, admin, actions
    by_key = {f.key: f for f in fields}
    problems: list[tuple[str, str]] = []
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in SYSTEM_KEYS:
            continue  # read-only; accepted so a fetched record can be sent back
        field = by_key.get(key)
        if field is None:
            problems.append((key, f"unknown field for module '{module.slug}'"))
            continue
        try:
            cleaned[key] = clean_value(field.type, value, options=field.options)
        except FieldValueError as exc:
            problems.append((key, str(exc)))
    for field in fields:
        missing = field.key not in cleaned if not partial else False
        if field.required and (missing or (field.key in cleaned and cleaned[field.key] is None)):
            problems.append((field.key, "is required"))
    problems += _check_links(module=module, by_key=by_key, cleaned=cleaned)
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def record_values_clean(
    *, module: Module, data: Mapping[str, Any], partial: bool
) -> dict[str, Any]:
    """The values a create (`partial=False`) or an update (`partial=True`) of `data` would
    store, coerced by field type (a date field keeps `2026-12-03` of `2026-12-03T21:00:18Z`),
    without writing anything; ValidationFailed with the same problems the write would raise.
    The dry run shows these, so that its preview is what the run writes."""
    return _clean_values(module=module, fields=module_fields(module), data=data, partial=partial)


def _check_links(
    *, module: Module, by_key: dict[str, Field], cleaned: dict[str, Any]
) -> list[tuple[str, str]]:
    """References must name a record of the workspace, users a member of it."""
    problems = []
    for key, value in cleaned.items():
        if value is None:
            continue
        field = by_key[key]
        if field.type == Field.Type.REFERENCE:
            target = Record.objects.filter(workspace_id=module.workspace_id, id=value)
            if field.reference_module:
                target = target.filter(module__slug=field.reference_module)
            if not target.exists():
                where = field.reference_module or "this workspace"
                problems.append((key, f"no record {value} in {where}"))
        elif field.type == Field.Type.USER:
            if not Membership.objects.filter(
                workspace_id=module.workspace_id, user_id=value
            ).exists():
                problems.append((key, f"user {value} is not a member of this workspace"))
    return problems


def _send(
    *,
    module: Module,
    event: str,
    record: dict,
    previous: dict | None,
    changed_fields: list[str],
    actor: User | None,
    cause: dict | None,
    fields: list[Field],
) -> None:
    record_changed.send(
        sender=Record,
        workspace=module.workspace,
        module=module,
        event=event,
        record=record,
        previous=previous,
        changed_fields=changed_fields,
        actor=actor,
        cause=cause,
        fields=fields,
    )


def record_create(
    *,
    module: Module,
    data: Mapping[str, Any],
    actor: User | None = None,
    cause: dict | None = None,
) -> Record:
    fields = module_fields(module)
    values = {
        k: v
        for k, v in _clean_values(module=module, fields=fields, data=data, partial=False).items()
        if v is not None
    }
    record = Record(
        workspace_id=module.workspace_id,
        module=module,
        values=values,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    # Validation is done (it raises before any write), so no savepoint is needed inside a
    # caller's transaction (an automation's create_record action, a test's): an error from
    # here on fails that transaction as a whole, as in record_update.
    with transaction.atomic(savepoint=False):
        insert_record(record)
        _send(
            module=module,
            event="created",
            record=record_snapshot(record, fields),
            previous=None,
            changed_fields=sorted(values),
            actor=actor,
            cause=cause,
            fields=fields,
        )
    return record


def record_update(
    *,
    record: Record,
    data: Mapping[str, Any],
    actor: User | None = None,
    cause: dict | None = None,
    locked: bool = False,
) -> Record:
    """Change some fields of `record`; a change that changes nothing is no event and no write.

    `locked`: the caller read `record` with records.selectors.record_for_update in its current
    transaction, so the row is locked and `record.values` is what it holds; it is not read
    again.
    """
    module = record.module
    fields = module_fields(module)
    cleaned = _clean_values(module=module, fields=fields, data=data, partial=True)
    # Validation is done (it raises before any write), so no savepoint is needed: an error
    # from here on fails the caller's transaction as a whole (the automation executor, which
    # calls this in a hot loop, saves two round trips per action this way).
    with transaction.atomic(savepoint=False):
        if locked:
            current = record
        else:
            # Lock the row so that `previous` is exactly the state this change replaced.
            current = Record.objects.select_for_update().get(pk=record.pk)
            current.module = module
        previous = record_snapshot(current, fields)
        new_values, changed = _applied(current.values, cleaned)
        if not changed:
            return current
        current.values = new_values
        write_values(current)
        _send(
            module=module,
            event="updated",
            record=record_snapshot(current, fields),
            previous=previous,
            changed_fields=changed,
            actor=actor,
            cause=cause,
            fields=fields,
        )
    return current


def _applied(values: dict[str, Any], cleaned: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """The values after a (partial) change, and the keys it changed; None clears a field."""
    new_values = dict(values)
    for key, value in cleaned.items():
        if value is None:
            new_values.pop(key, None)
        else:
            new_values[key] = value
    changed = sorted(k for k in set(new_values) | set(values) if new_values.get(k) != values.get(k))
    return new_values, changed


BULK_BATCH = 1_000


def records_bulk_update(
    *,
    module: Module,
    records_or_filter: QuerySet | Iterable[Record | str] | Mapping[str, Any] | Q,
    data: Mapping[str, Any],
    actor: User | None = None,
    cause: dict | None = None,
) -> int:
    """Apply the same `data` to many records of `module`; returns how many records changed.

    `records_or_filter`: a queryset, records or record ids, or a filter (a Q, or lookups for
    Record.objects.filter such as {"values__status": "new"}); only records of `module` are
    touched. `data` is validated once, as record_update validates it. Records change
    BULK_BATCH at a time, each batch in its own transaction with its rows locked, and each
    batch sends one `records_changed` signal (not one record_changed per record), so the
    automation engine writes the batch's runs together. As with record_update, a record the
    data does not change is neither written nor an event.
    """
    if isinstance(records_or_filter, (str, Record)):
        raise TypeError("records_or_filter takes several records or ids: pass a list")
    fields = module_fields(module)
    cleaned = _clean_values(module=module, fields=fields, data=data, partial=True)
    scope = Record.objects.filter(module=module)
    if isinstance(records_or_filter, Q):
        scope = scope.filter(records_or_filter)
    elif isinstance(records_or_filter, Mapping):
        scope = scope.filter(**records_or_filter)
    elif isinstance(records_or_filter, QuerySet):
        scope = scope.filter(pk__in=records_or_filter.values("pk"))
    else:
        wanted = [r.pk if isinstance(r, Record) else r for r in records_or_filter]
        scope = scope.filter(pk__in=wanted)
    ids = list(scope.order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), BULK_BATCH):
        changed += _bulk_update_batch(
            module=module,
            fields=fields,
            scope=scope,
            ids=ids[start : start + BULK_BATCH],
            cleaned=cleaned,
            actor=actor,
            cause=cause,
        )
    return changed


@transaction.atomic
def _bulk_update_batch(
    *,
    module: Module,
    fields: list[Field],
    scope: QuerySet,
    ids: list[str],
    cleaned: Mapping[str, Any],
    actor: User | None,
    cause: dict | None,
) -> int:
    now = timezone.now()
    # Locked in id order, so two bulk updates over the same records cannot deadlock. The filter
    # is applied again under the lock: a record changed since the ids were listed so that it no
    # longer matches (status no longer "new", say) is left alone.
    locked = scope.filter(pk__in=ids).select_for_update().order_by("pk")
    written: list[Record] = []
    changes: list[RecordChange] = []
    for record in locked:
        record.module = module
        previous = record_snapshot(record, fields)
        new_values, changed = _applied(record.values, cleaned)
        if not changed:
            continue
        record.values = new_values
        record.updated_at = now
        written.append(record)
        changes.append(RecordChange(record_snapshot(record, fields), previous, changed))
    if not written:
        return 0
    Record.objects.bulk_update(written, ["values", "updated_at"])
    records_changed.send(
        sender=Record,
        workspace=module.workspace,
        module=module,
        event="updated",
        changes=changes,
        actor=actor,
        cause=cause,
        fields=fields,
    )
    return len(written)


@transaction.atomic
def record_delete(*, record: Record, actor: User | None = None, cause: dict | None = None) -> None:
    module = record.module
    fields = module_fields(module)
    # The last values come from the locked row, not from a possibly stale instance.
    locked = Record.objects.select_for_update().filter(pk=record.pk).first()
    if locked is None:
        raise DomainError("record_not_found", f"Record {record.pk} not found", status=404)
    locked.module = module
    snapshot = record_snapshot(locked, fields)
    locked.delete()
    _send(
        module=module,
        event="deleted",
        record=snapshot,
        previous=snapshot,
        changed_fields=[],
        actor=actor,
        cause=cause,
        fields=fields,
    )
