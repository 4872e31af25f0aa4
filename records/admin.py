"""Admin for modules and records. Record changes go through records.services (save_model,
delete_model, delete_queryset), so automations fire for admin edits exactly as for the API."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest

from accounts.requests import signed_in_user
from config.errors import DomainError, ValidationFailed
from config.jsonforms import JSON_POLICY_OVERRIDES
from records.models import Field, Module, Record
from records.selectors import module_fields
from records.services import _clean_values, record_create, record_delete, record_update


class FieldInline(admin.TabularInline):
    model = Field
    formfield_overrides = JSON_POLICY_OVERRIDES
    extra = 0
    fields = ("position", "key", "label", "type", "required", "options", "reference_module")


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "workspace", "kind", "field_count", "record_count")
    list_filter = ("kind", "workspace")
    search_fields = ("slug", "name", "workspace__slug")
    inlines = (FieldInline,)

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .select_related("workspace")
            .annotate(
                _fields=Count("fields", distinct=True), _records=Count("records", distinct=True)
            )
        )

    @admin.display(description="Fields", ordering="_fields")
    def field_count(self, obj: Module) -> int:
        return obj._fields  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="Records", ordering="_records")
    def record_count(self, obj: Module) -> int:
        return obj._records  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    formfield_overrides = JSON_POLICY_OVERRIDES
    list_display = ("key", "label", "module", "type", "required", "position")
    list_filter = ("type", "required", "module__workspace")
    search_fields = ("key", "label", "module__slug")
    list_select_related = ("module", "module__workspace")


class RecordAdminForm(forms.ModelForm):
    """`values` is checked by the same rules as the API before anything is saved."""

    class Meta:
        model = Record
        fields = ("module", "values")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        module = data.get("module") or (self.instance.module if self.instance.pk else None)
        values = data.get("values")
        if module is None or values is None:
            return data
        try:
            _clean_values(module=module, fields=module_fields(module), data=values, partial=False)
        except ValidationFailed as exc:
            for path, messages in (exc.details or {}).items():
                for message in messages:
                    self.add_error("values", f"{path}: {message}" if path else message)
        return data


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    form = RecordAdminForm
    formfield_overrides = JSON_POLICY_OVERRIDES
    list_display = ("id", "display_name", "module", "workspace", "created_by", "updated_at")
    list_filter = ("module__slug", "workspace")
    search_fields = ("id",)
    list_select_related = ("module", "module__workspace", "workspace", "created_by")
    readonly_fields = ("id", "workspace", "created_by", "created_at", "updated_at")

    @admin.display(description="Name")
    def display_name(self, obj: Record) -> str:
        return str(obj.values.get("name") or "—")

    def get_readonly_fields(self, request: HttpRequest, obj: Record | None = None):
        # A record cannot move between modules: its values belong to its module's fields.
        return (*self.readonly_fields, "module") if obj else self.readonly_fields

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """By id, or by any text inside the values (e.g. a name or an email)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        in_values = (
            queryset.annotate(_text=Cast("values", TextField()))
            .filter(_text__icontains=term)
            .values("pk")
        )
        return queryset.filter(Q(pk=term) | Q(pk__in=in_values)), False

    def save_model(self, request: HttpRequest, obj: Record, form, change: bool) -> None:
        if change:
            before = Record.objects.get(pk=obj.pk)
            # Keys removed in the editor clear those fields, as a null would in the API.
            data = {**dict.fromkeys(before.values), **obj.values}
            saved = record_update(record=before, data=data, actor=signed_in_user(request))
        else:
            saved = record_create(module=obj.module, data=obj.values, actor=signed_in_user(request))
        for attr in ("pk", "workspace_id", "values", "created_by_id", "created_at", "updated_at"):
            setattr(obj, attr, getattr(saved, attr))

    def delete_model(self, request: HttpRequest, obj: Record) -> None:
        record_delete(record=obj, actor=signed_in_user(request))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for record in queryset.select_related("module", "module__workspace"):
            try:
                record_delete(record=record, actor=signed_in_user(request))
            except DomainError:
                pass  # deleted meanwhile: the outcome is the same
