from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest

from accounts.login_throttle import ThrottledAdminAuthenticationForm
from accounts.models import ApiKey, Membership, Workspace
from accounts.services import api_key_revoke, workspace_create

# The admin's sign-in counts failures against the same limits as the web login's.
admin.site.login_form = ThrottledAdminAuthenticationForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "member_count", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("created_at", "webhook_secret_rotated_at")
    # The secrets are shown to the workspace's own members (API keys page, GET /v1/workspace);
    # what they derive from is never typed in by hand: rotate with the action.
    exclude = ("webhook_secret_nonce", "previous_webhook_secret_nonce")
    inlines = (MembershipInline,)
    actions = ("rotate_webhook_secret",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj: Workspace) -> int:
        return obj._members  # type: ignore[attr-defined]  # annotated by get_queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Workspace | None = None):
        # The slug is in session cookies and API clients' config: fixed once created.
        return (*self.readonly_fields, "slug") if obj else self.readonly_fields

    @admin.action(description="Rotate the webhook signing secret (the old one signs for 24 h more)")
    def rotate_webhook_secret(self, request: HttpRequest, queryset) -> None:
        from automations.signing import rotate

        for workspace in queryset:
            rotate(workspace=workspace)
        self.message_user(
            request, f"Rotated the signing secret of {queryset.count()} workspace(s)."
        )

    def save_model(self, request, obj: Workspace, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so the workspace gets its vendor modules and email templates.
        created = workspace_create(slug=obj.slug, name=obj.name)
        obj.pk, obj.slug, obj.created_at = created.pk, created.slug, created.created_at


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role", "workspace")
    search_fields = ("user__email", "user__username", "workspace__slug")
    autocomplete_fields = ("user", "workspace")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created where the plain key can be shown once (the UI, create_api_key)."""

    list_display = ("prefix", "name", "workspace", "user", "created_at", "last_used_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "workspace")
    search_fields = ("name", "prefix", "user__email", "workspace__slug")
    readonly_fields = (
        "workspace",
        "user",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    fields = ("name", *readonly_fields)
    actions = ("revoke_keys",)

    @admin.display(boolean=True, description="Active")
    def active(self, obj: ApiKey) -> bool:
        return obj.is_active

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Without allowed_permissions an action is offered to whoever may merely view the list:
    # revoking is a change, so it needs the change permission (accounts.roles says why the
    # admin follows Django's permissions rather than workspace roles).
    @admin.action(description="Revoke the selected keys", permissions=("change",))
    def revoke_keys(self, request: HttpRequest, queryset) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)
