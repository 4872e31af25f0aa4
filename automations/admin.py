"""Admin for automations, their runs, email templates and notifications. Writes go through
automations.services (the same validation and rules as the API); runs are read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from automations import links, selectors, services
from automations.definition import DEFINITION_FIELDS, DEFINITION_PARTS, validate_definition
from automations.models import (
    ActionRun,
    Automation,
    AutomationVersion,
    EmailTemplate,
    InboundDelivery,
    Notification,
    Run,
)
from automations.runtime.notifications import notification_mark_read
from automations.runtime.runs import run_retry
from config.errors import DomainError, ValidationFailed
from config.jsonforms import JSON_POLICY_OVERRIDES

RECENT_RUNS = 10


def _add_path_errors(form: forms.ModelForm, exc: ValidationFailed) -> None:
    """Put each problem on the JSON field its path starts with (`actions[1].config.url`)."""
    for path, problems in (exc.details or {}).items():
        root = path.split(".")[0].split("[")[0]
        target = root if root in form.fields else None
        for problem in problems:
            form.add_error(target, f"{path}: {problem}" if path and target != path else problem)


class AutomationAdminForm(forms.ModelForm):
    class Meta:
        model = Automation
        fields = ("workspace", *DEFINITION_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        workspace = data.get("workspace") or getattr(self.instance, "workspace", None)
        if workspace is None or self.errors:
            return data
        definition = {key: data.get(key) for key in DEFINITION_FIELDS}
        if self.instance.pk and self.instance.webhook_secret:
            definition["webhook_secret"] = self.instance.webhook_secret
        try:
            validate_definition(
                workspace=workspace,
                data=definition,
                instance=self.instance if self.instance.pk else None,
            )
        except ValidationFailed as exc:
            _add_path_errors(self, exc)
        return data


class VersionInline(admin.TabularInline):
    model = AutomationVersion
    extra = 0
    fields = ("version", "created_by", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Automation)
class AutomationAdmin(admin.ModelAdmin):
    form = AutomationAdminForm
    formfield_overrides = JSON_POLICY_OVERRIDES
    list_display = (
        "name",
        "id",
        "workspace",
        "trigger_type",
        "module",
        "enabled",
        "run_count",
        "last_run_at",
        "last_run_status",
        "breaker",
        "runs_link",
    )
    list_filter = ("enabled", "trigger_type", "last_run_status", "workspace")
    search_fields = ("name", "id", "description")
    list_select_related = ("workspace", "module")
    actions = ("enable_selected", "disable_selected")
    inlines = (VersionInline,)
    readonly_fields = (
        "id",
        "enabled",
        "trigger_type",
        "module",
        "watched_field",
        "webhook_path",
        "next_run_at",
        "run_count",
        "last_run_at",
        "last_run_status",
        "consecutive_failures",
        "disabled_reason",
        "version",
        "created_by",
        "created_at",
        "updated_at",
        "recent_runs",
    )
    fieldsets = (
        (None, {"fields": ("workspace", "name", "description", "enabled")}),
        (
            "Definition (saving a change disables the automation, as in the API)",
            {"fields": (*DEFINITION_PARTS, "timezone")},
        ),
        (
            "Health",
            {
                "fields": (
                    "run_count",
                    "last_run_at",
                    "last_run_status",
                    "consecutive_failures",
                    "disabled_reason",
                    "next_run_at",
                    "recent_runs",
                )
            },
        ),
        (
            "Derived from the trigger",
            {
                "classes": ("collapse",),
                "fields": (
                    "id",
                    "trigger_type",
                    "module",
                    "watched_field",
                    "webhook_path",
                    "version",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Automation | None = None):
        return (*self.readonly_fields, "workspace") if obj else self.readonly_fields

    @admin.display(description="Circuit breaker")
    def breaker(self, obj: Automation) -> str:
        reason = obj.disabled_reason or {}
        return reason.get("message", "") if isinstance(reason, dict) else str(reason)

    @admin.display(description="Runs")
    def runs_link(self, obj: Automation) -> str:
        url = reverse("admin:automations_run_changelist") + f"?automation__id__exact={obj.id}"
        return format_html('<a href="{}">{} runs</a>', url, obj.run_count)

    @admin.display(description="Recent runs")
    def recent_runs(self, obj: Automation) -> str:
        if not obj.pk:
            return "—"
        runs = Run.objects.filter(automation=obj).order_by("-created_at")[:RECENT_RUNS]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    # The admin's own quoting: an id such as log_22... would otherwise be read
                    # back as log"... (admin URLs escape "_" and other characters as _XX).
                    reverse("admin:automations_run_change", args=[quote(run.pk)]),
                    run.pk,
                    run.status,
                    run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    run.error_code or "",
                )
                for run in runs
            ),
        )
        url = reverse("admin:automations_run_changelist") + f"?automation__id__exact={obj.id}"
        return format_html(
            "<table><thead><tr><th>Run</th><th>Status</th><th>Created</th><th>Error</th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}">All runs of this automation</a></p>',
            rows,
            url,
        )

    def save_model(self, request: HttpRequest, obj: Automation, form, change: bool) -> None:
        data = {key: form.cleaned_data.get(key) for key in DEFINITION_FIELDS}
        if change:
            before = Automation.objects.get(pk=obj.pk)
            saved = services.automation_update(automation=before, user=request.user, data=data)
            if saved.version != before.version:  # unchanged saves keep their state (services)
                messages.info(request, f"“{saved.name}” is disabled until you enable it again.")
        else:
            saved = services.automation_create(
                workspace=form.cleaned_data["workspace"], user=request.user, data=data
            )
        # The admin logs and redirects with `obj`: make it the row the service wrote.
        for field in Automation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request: HttpRequest, obj: Automation) -> None:
        services.automation_delete(automation=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Automation]) -> None:
        for automation in queryset:
            services.automation_delete(automation=automation)

    def _set_enabled(self, request: HttpRequest, queryset, enabled: bool) -> None:
        count = 0
        for automation in queryset:
            services.automation_set_enabled(automation=automation, enabled=enabled)
            count += 1
        state = "Enabled" if enabled else "Disabled"
        self.message_user(request, f"{state} {count} automation(s).", messages.SUCCESS)

    @admin.action(description="Enable the selected automations")
    def enable_selected(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected automations")
    def disable_selected(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, False)


@admin.register(AutomationVersion)
class AutomationVersionAdmin(admin.ModelAdmin):
    list_display = ("automation", "version", "created_by", "created_at")
    list_filter = ("automation__workspace",)
    search_fields = ("automation__name", "automation__id")
    list_select_related = ("automation", "created_by")
    readonly_fields = ("automation", "version", "definition", "created_by", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionRunInline(admin.TabularInline):
    model = ActionRun
    extra = 0
    can_delete = False
    fields = (
        "index",
        "type",
        "status",
        "attempt",
        "duration_ms",
        "error_code",
        "error_message",
        "config",
        "output",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs are written by the engine only; the admin reads them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "automation",
        "status",
        "event",
        "record_id",
        "created_at",
        "duration_ms",
        "error_code",
    )
    list_filter = ("status", "automation__workspace", "created_at")
    search_fields = ("id", "record_id", "automation__id", "automation__name", "error_code")
    list_select_related = ("automation",)
    date_hierarchy = "created_at"
    inlines = (ActionRunInline,)
    actions = ("retry_selected",)

    @admin.display(description="Event")
    def event(self, obj: Run) -> str:
        return (obj.trigger_data or {}).get("event") or ""

    @admin.action(description="Retry the selected failed runs")
    def retry_selected(self, request: HttpRequest, queryset) -> None:
        retried, refused = 0, 0
        for run in queryset:
            try:
                run_retry(run=run, user=request.user)
                retried += 1
            except DomainError:
                refused += 1
        self.message_user(request, f"Retrying {retried} run(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"{refused} run(s) were not failed and were left alone.", messages.WARNING
            )


@admin.register(ActionRun)
class ActionRunAdmin(ReadOnlyAdmin):
    list_display = ("run", "index", "type", "status", "attempt", "duration_ms", "error_code")
    list_filter = ("type", "status")
    search_fields = ("run__id", "error_code", "error_message")
    list_select_related = ("run",)


class EmailTemplateAdminForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ("workspace", "name", "subject", "body")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        workspace = data.get("workspace") or getattr(self.instance, "workspace", None)
        if workspace is None or self.errors:
            return data
        fields = {k: data.get(k) for k in ("name", "subject", "body")}
        problems = services._email_template_problems(
            workspace=workspace, data=fields, instance=self.instance if self.instance.pk else None
        )
        for path, message in problems:
            self.add_error(path if path in self.fields else None, message)
        return data


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateAdminForm
    list_display = ("name", "workspace", "subject", "updated_at")
    list_filter = ("workspace",)
    search_fields = ("name", "subject", "body")

    def get_readonly_fields(self, request: HttpRequest, obj: EmailTemplate | None = None):
        return ("workspace",) if obj else ()

    def save_model(self, request: HttpRequest, obj: EmailTemplate, form, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in ("name", "subject", "body")}
        try:
            if change:
                services.email_template_update(
                    template=EmailTemplate.objects.get(pk=obj.pk), data=fields
                )
            else:
                saved = services.email_template_create(
                    workspace=form.cleaned_data["workspace"], data=fields
                )
                obj.pk = saved.pk
        except DomainError as exc:
            # A rename of a template in use (409): nothing changed; say why.
            messages.error(request, exc.message)

    def has_delete_permission(self, request: HttpRequest, obj: EmailTemplate | None = None):
        # Automations name templates: one in use cannot be deleted (as in the API).
        if obj is not None and selectors.automations_using_template(
            workspace=obj.workspace, name=obj.name
        ):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: EmailTemplate) -> None:
        services.email_template_delete(template=obj)


class NotificationAdminForm(forms.ModelForm):
    class Meta:
        model = Notification
        # Every editable field (run and created_at are read-only in NotificationAdmin).
        fields = ("workspace", "user", "title", "message", "link", "read_at")

    def clean_link(self) -> str:
        """The same rule as the send_notification action's (automations.links)."""
        link = (self.cleaned_data.get("link") or "").strip()
        problem = links.link_problem(link) if link else None
        if problem:
            raise forms.ValidationError(f"The link {problem}.")
        return link


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    form = NotificationAdminForm
    list_display = ("title", "user", "workspace", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "workspace")
    search_fields = ("title", "message", "user__email")
    list_select_related = ("user", "workspace")
    readonly_fields = ("run", "created_at")
    actions = ("mark_read",)

    @admin.action(description="Mark the selected notifications as read")
    def mark_read(self, request: HttpRequest, queryset) -> None:
        for notification in queryset.filter(read_at__isnull=True):
            notification_mark_read(notification=notification)
        self.message_user(request, "Marked as read.", messages.SUCCESS)


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "automation", "run", "received_at")
    search_fields = ("webhook_id", "automation__id")
    list_select_related = ("automation",)
