"""The records API: a workspace's modules and their fields (/v1/modules), and the records of a
module (/v1/modules/{slug}/records: list with filters, search and ordering; get, create, update,
delete). Writes go through records.services, which validates each value by its field's type."""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.openapi import (
    COMMON,
    component,
    data_of,
    errors,
    page_of,
    page_parameters,
    ref,
)
from config.api.pagination import page_params, paginate
from config.api.views import (
    WorkspaceAPIView,
    acting_user,
    envelope,
    json_object,
    reject_unknown_keys,
    workspace_auth,
)
from config.errors import DomainError, ValidationFailed, not_found
from records import services
from records.fieldtypes import FieldValueError, clean_value
from records.models import Field, Module, Record
from records.selectors import (
    module_fields,
    module_get,
    modules_for,
    record_for_update,
    record_get,
)

RECORD_LIST_PARAMS = {"page", "per_page", "search", "ordering"}
SEARCHABLE_TYPES = {"text", "email", "url", "select"}


def field_data(field: Field) -> dict:
    return {
        "key": field.key,
        "label": field.label,
        "type": field.type,
        "required": field.required,
        "options": field.options,
        "reference_module": field.reference_module or None,
    }


def module_data(module: Module) -> dict:
    return {
        "slug": module.slug,
        "name": module.name,
        "kind": module.kind,
        "fields": [field_data(f) for f in module_fields(module)],
        "created_at": module.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --- OpenAPI shapes (documentation only; the services validate) -----------------------------

TAG = "records"
# Request bodies refuse unknown keys, so their schemas say additionalProperties: false.
MODULE_IN = {
    "type": "object",
    "properties": {
        "slug": {"type": "string", "description": "lowercase letters, digits, '-' or '_'"},
        "name": {"type": "string"},
    },
    "additionalProperties": False,
}
FIELD_IN = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "description": "starts with a letter; a-z, 0-9 and _"},
        "label": {"type": "string"},
        "type": {"type": "string", "enum": list(Field.Type.values)},
        "required": {"type": "boolean"},
        "options": {"type": "array", "items": {"type": "string"}},
        "reference_module": {"type": "string"},
    },
    "additionalProperties": False,
}
RECORD_IN = {
    "type": "object",
    "description": "Field values by field key (see GET /v1/modules/{slug}/fields)",
    "additionalProperties": True,
}


# The API's own key names: DRF's serializer metaclass takes declared fields off the class, so
# `label`, `required` and `fields` do not replace DRF's attributes of those names (mypy cannot
# know that).
class FieldSchema(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=Field.Type.values)
    required = serializers.BooleanField()  # type: ignore[assignment]
    options = serializers.ListField(child=serializers.CharField())
    reference_module = serializers.CharField(allow_null=True)


class ModuleSchema(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Module.Kind.values)
    fields = FieldSchema(many=True)  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


# A record is flat: system keys plus one key per field of its module (GET .../fields says
# which), so its schema is an object with the fixed keys that allows the others.
RECORD = component(
    "Record",
    {
        "type": "object",
        "description": "The record's id, module and timestamps, and a key per field of its module",
        "properties": {
            "id": {"type": "string", "example": "rec_abc123"},
            "module": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
        "required": ["id", "module", "created_at", "updated_at"],
        "additionalProperties": True,
    },
)
RECORD_ONE = component(
    "RecordOne", {"type": "object", "properties": {"data": RECORD}, "required": ["data"]}
)
RECORD_PAGE = component(
    "RecordPage",
    {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": RECORD},
            "meta": ref("MetaSchema"),
        },
        "required": ["data", "meta"],
    },
)


RECORD_DELETED = data_of(
    "RecordDeleted",
    inline_serializer(
        "RecordDeletedData",
        {"id": serializers.CharField(), "deleted": serializers.BooleanField()},
    ),
)


class ModuleListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="modules_list",
        responses={200: page_of("ModulePage", ModuleSchema(many=True)), **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        modules = list(modules_for(self.workspace(request)))
        return envelope(
            [module_data(m) for m in modules],
            {"total": len(modules), "page": 1, "per_page": len(modules)},
        )

    @extend_schema(
        tags=[TAG],
        operation_id="modules_create",
        request={"application/json": MODULE_IN},
        responses={201: data_of("ModuleCreated", ModuleSchema()), **errors(*COMMON)},
        description="400 validation_error for a bad or already used slug.",
    )
    def post(self, request: Request) -> Response:
        data = json_object(request)
        reject_unknown_keys(data, {"slug", "name"})
        module = services.module_create(
            workspace=self.workspace(request),
            slug=_string(data, "slug"),
            name=_string(data, "name"),
        )
        return envelope(module_data(module), status=201)


def _string(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ValidationFailed([(key, "must be a string")])
    return value


def _module_or_404(request: Request, slug: str) -> Module:
    module = module_get(workspace=workspace_auth(request).workspace, slug=slug)
    if module is None:
        raise not_found(f"Module '{slug}'")
    return module


class ModuleDetailView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="modules_retrieve",
        responses={200: data_of("ModuleOne", ModuleSchema()), **errors(404, *COMMON)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return envelope(module_data(_module_or_404(request, slug)))


class FieldListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="module_fields_list",
        responses={200: data_of("FieldList", FieldSchema(many=True)), **errors(404, *COMMON)},
    )
    def get(self, request: Request, slug: str) -> Response:
        fields = module_fields(_module_or_404(request, slug))
        return envelope([field_data(f) for f in fields])

    @extend_schema(
        tags=[TAG],
        operation_id="module_fields_create",
        request={"application/json": FIELD_IN},
        responses={201: data_of("FieldCreated", FieldSchema()), **errors(404, *COMMON)},
    )
    def post(self, request: Request, slug: str) -> Response:
        module = _module_or_404(request, slug)
        data = json_object(request)
        reject_unknown_keys(
            data, {"key", "label", "type", "required", "options", "reference_module"}
        )
        required = data.get("required", False)
        if not isinstance(required, bool):
            raise ValidationFailed([("required", "must be true or false")])
        options = data.get("options", [])
        if not isinstance(options, list):
            raise ValidationFailed([("options", "must be a list of strings")])
        field = services.field_create(
            module=module,
            key=_string(data, "key"),
            label=_string(data, "label"),
            type=_string(data, "type"),
            required=required,
            options=options,
            reference_module=_string(data, "reference_module"),
        )
        return envelope(field_data(field), status=201)


def filter_records(module: Module, params) -> QuerySet[Record]:
    fields = {f.key: f for f in module_fields(module)}
    records = Record.objects.filter(module=module)
    problems: list[tuple[str, str]] = []
    for key in params:
        if key in RECORD_LIST_PARAMS:
            continue
        field = fields.get(key)
        if field is None:
            problems.append((key, "unknown filter: not a field of this module"))
            continue
        try:
            value = clean_value(field.type, params.get(key), options=field.options)
        except FieldValueError as exc:
            problems.append((key, str(exc)))
            continue
        if value is None:
            records = records.filter(Q(**{f"values__{key}__isnull": True}))
        else:
            records = records.filter(**{f"values__{key}": value})
    search = (params.get("search") or "").strip()
    if search:
        query = Q()
        for field in fields.values():
            if field.type in SEARCHABLE_TYPES:
                query |= Q(**{f"values__{field.key}__icontains": search})
        records = records.filter(query)
    ordering = params.get("ordering") or "-created_at"
    name = ordering.lstrip("-")
    if name in ("created_at", "updated_at", "id"):
        records = records.order_by(ordering, "id")
    elif name in fields:
        expression = KeyTransform(name, "values")
        records = records.order_by(
            expression.desc(nulls_last=True)
            if ordering.startswith("-")
            else expression.asc(nulls_last=True),
            "id",
        )
    else:
        problems.append(("ordering", f"cannot order by {name!r}; use a field key or created_at"))
    if problems:
        raise ValidationFailed(problems)
    return records


class RecordListView(WorkspaceAPIView):
    @extend_schema(
        tags=[TAG],
        operation_id="records_list",
        parameters=[
            *page_parameters(),
            OpenApiParameter("search", str, description="Part of any text, email, url or select"),
            OpenApiParameter(
                "ordering",
                str,
                description="created_at, updated_at, id or a field key; - first for descending",
            ),
        ],
        responses={200: RECORD_PAGE, **errors(404, *COMMON)},
        description="Any other query parameter filters on the field of that key (exact match).",
    )
    def get(self, request: Request, slug: str) -> Response:
        module = _module_or_404(request, slug)
        params = page_params(request.query_params)
        records, meta = paginate(filter_records(module, request.query_params), params)
        fields = module_fields(module)
        for record in records:
            record.module = module
        return envelope([services.record_snapshot(r, fields) for r in records], meta)

    @extend_schema(
        tags=[TAG],
        operation_id="records_create",
        request={"application/json": RECORD_IN},
        responses={201: RECORD_ONE, **errors(404, *COMMON)},
    )
    def post(self, request: Request, slug: str) -> Response:
        module = _module_or_404(request, slug)
        record = services.record_create(
            module=module, data=json_object(request), actor=acting_user(request)
        )
        return envelope(services.record_snapshot(record, module_fields(module)), status=201)


def _record_not_found(record_id: str) -> DomainError:
    return not_found(f"Record {record_id}", "record_not_found")


class RecordDetailView(WorkspaceAPIView):
    def _get(self, request: Request, slug: str, record_id: str) -> tuple[Module, Record]:
        module = _module_or_404(request, slug)
        record = record_get(workspace=self.workspace(request), record_id=record_id, module=module)
        if record is None:
            raise _record_not_found(record_id)
        record.module = module
        return module, record

    @extend_schema(
        tags=[TAG],
        operation_id="records_retrieve",
        responses={200: RECORD_ONE, **errors(404, *COMMON)},
    )
    def get(self, request: Request, slug: str, record_id: str) -> Response:
        module, record = self._get(request, slug, record_id)
        return envelope(services.record_snapshot(record, module_fields(module)))

    @extend_schema(
        tags=[TAG],
        operation_id="records_partial_update",
        request={"application/json": RECORD_IN},
        responses={200: RECORD_ONE, **errors(404, *COMMON)},
    )
    def patch(self, request: Request, slug: str, record_id: str) -> Response:
        with transaction.atomic():
            # One statement reads the record locked with its module and fields; the update
            # then reads nothing again (an unlocked read first, then the update's locked one,
            # took two).
            record = record_for_update(
                workspace_id=self.workspace(request).id, record_id=record_id, module_slug=slug
            )
            if record is None:
                _module_or_404(request, slug)  # an unknown module is reported as such
                raise _record_not_found(record_id)
            record = services.record_update(
                record=record, data=json_object(request), actor=acting_user(request), locked=True
            )
        return envelope(services.record_snapshot(record, module_fields(record.module)))

    @extend_schema(
        tags=[TAG],
        operation_id="records_destroy",
        responses={200: RECORD_DELETED, **errors(404, *COMMON)},
    )
    def delete(self, request: Request, slug: str, record_id: str) -> Response:
        _, record = self._get(request, slug, record_id)
        services.record_delete(record=record, actor=acting_user(request))
        return envelope({"id": record_id, "deleted": True})
