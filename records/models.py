from django.conf import settings
from django.db import models

from accounts.models import Workspace
from config.ids import make_id


class Module(models.Model):
    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        CUSTOM = "custom", "Custom"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="module_slug_unique")
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.workspace.slug}/{self.slug}" if self.workspace_id else self.slug


class Field(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        DATETIME = "datetime", "Date and time"
        BOOLEAN = "boolean", "Yes/no"
        SELECT = "select", "Select"
        EMAIL = "email", "Email"
        URL = "url", "URL"
        REFERENCE = "reference", "Reference"
        USER = "user", "User"

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=Type.choices)
    required = models.BooleanField(default=False)
    options = models.JSONField(default=list, blank=True, help_text="Choices of a select field")
    reference_module = models.CharField(
        max_length=64, blank=True, help_text="Module slug a reference field points to"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["module", "key"], name="field_key_unique")]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.module.slug}.{self.key}"


def new_record_id() -> str:
    return make_id("rec")


class Record(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_record_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="records")
    # No index of its own: record_module_created (module, -created_at) serves every lookup by
    # module, and a record save writes each index.
    module = models.ForeignKey(
        Module, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    values = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Record lists: one module, newest first.
            models.Index(fields=["module", "-created_at"], name="record_module_created"),
        ]

    def __str__(self) -> str:
        return str(self.values.get("name") or self.id)
