from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform

from accounts.models import Workspace
from config.ids import make_id
from records.models import Module


def new_automation_id() -> str:
    return make_id("auto")


def new_run_id() -> str:
    return make_id("log")


class Automation(models.Model):
    """A trigger, conditions and ordered actions. The JSON parts are validated on save by
    automations.definition; the columns beside them are derived from `trigger` so that
    matching an event is an indexed query, never a scan of JSON."""

    id = models.CharField(
        primary_key=True, max_length=32, default=new_automation_id, editable=False
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="automations")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False)
    trigger = models.JSONField()
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    error_handling = models.JSONField(default=dict, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    # Derived from `trigger` (kept in step by automations.services).
    trigger_type = models.CharField(max_length=32)
    module = models.ForeignKey(
        Module, on_delete=models.CASCADE, null=True, blank=True, related_name="automations"
    )
    watched_field = models.CharField(max_length=64, blank=True)
    webhook_path = models.CharField(max_length=128, null=True, blank=True)
    webhook_secret = models.CharField(
        max_length=128,
        blank=True,
        help_text="Standard Webhooks secret (whsec_...) that inbound calls must be signed with",
    )
    next_run_at = models.DateTimeField(null=True, blank=True)

    # Health and counters.
    run_count = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_status = models.CharField(max_length=16, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.JSONField(
        null=True,
        blank=True,
        help_text='Set by the circuit breaker: {"code", "message", "last_error"}',
    )

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            # The record-event matcher: enabled automations of one module and trigger type.
            models.Index(
                fields=["module", "trigger_type"],
                condition=Q(enabled=True),
                name="auto_match_enabled",
            ),
            # The schedule dispatcher: enabled schedules due now, in due order.
            models.Index(
                fields=["next_run_at"],
                condition=Q(enabled=True, trigger_type="schedule"),
                name="auto_schedule_due",
            ),
            # API list: one workspace, newest first.
            models.Index(fields=["workspace", "-created_at"], name="auto_workspace_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "webhook_path"],
                condition=Q(webhook_path__isnull=False),
                name="auto_webhook_path_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class AutomationVersion(models.Model):
    """Each saved definition, so a run can say which version it executed."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["automation", "version"], name="auto_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.automation_id} v{self.version}"


class Run(models.Model):
    """One execution of an automation (the seed's "log")."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting (delay)"
        RETRYING = "retrying", "Retrying"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked (loop protection)"

    ACTIVE_STATUSES = (Status.PENDING, Status.WAITING, Status.RETRYING)
    FINAL_STATUSES = (Status.SUCCESS, Status.FAILED, Status.BLOCKED)

    id = models.CharField(primary_key=True, max_length=32, default=new_run_id, editable=False)
    # No index of its own: run_automation_created (automation, -created_at) serves every lookup
    # by automation, and each index is written again by every run's inserts and status updates.
    automation = models.ForeignKey(
        Automation, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    # No index of its own: run_workspace_created starts with it.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trigger_data = models.JSONField(default=dict)
    conditions_evaluated = models.JSONField(default=list, blank=True)
    # Where execution resumes after a delay or retry; actions before it are never repeated.
    next_action_index = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="Tries of the current action")
    context = models.JSONField(
        default=dict, blank=True, help_text="Values carried between actions and resumptions"
    )
    chain = models.JSONField(
        default=dict, blank=True, help_text='Cause chain: {"root", "depth", "visited": [...]}'
    )
    due_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # Indexed only where set (run_triggered_by): most runs have no user, and a user's deletion
    # is the one query by this column.
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    record_id = models.CharField(
        max_length=32,
        blank=True,
        db_index=True,
        help_text="The trigger record, for a record's run history",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # GET /automations/{id}/logs: newest first, optionally by status.
            models.Index(fields=["automation", "-created_at"], name="run_automation_created"),
            models.Index(
                fields=["automation", "status", "-created_at"], name="run_automation_status"
            ),
            # The Runs page (automations.run_queries): a workspace's runs newest first, by
            # keyset on (created_at, id), optionally by status.
            models.Index(fields=["workspace", "-created_at", "-id"], name="run_workspace_created"),
            models.Index(
                fields=["workspace", "status", "-created_at", "-id"], name="run_workspace_status"
            ),
            # The relay: runs waiting to be (re)published, oldest due first.
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["pending", "waiting", "retrying"]),
                name="run_relay_due",
            ),
            # The relay's reclaim of runs whose worker died.
            models.Index(
                fields=["lease_expires_at"], condition=Q(status="running"), name="run_running_lease"
            ),
            # SET NULL when a user is deleted.
            models.Index(
                fields=["triggered_by"],
                condition=Q(triggered_by__isnull=False),
                name="run_triggered_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class ActionRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Retrying"
        WAITING = "waiting", "Waiting"
        SKIPPED = "skipped", "Skipped"

    # No index of its own: action_run_unique (run, index) serves every lookup by run.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="action_runs", db_index=False
    )
    index = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    attempt = models.PositiveIntegerField(default=1)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="Rendered, secrets redacted")
    output = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="action_run_unique"),
        ]
        indexes = [
            # A record page's runs that created or updated it (run_queries.runs_touching_record).
            models.Index(KeyTextTransform("record_id", "output"), name="action_run_output_record"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}[{self.index}] {self.type} ({self.status})"


class EmailTemplate(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="email_templates"
    )
    name = models.SlugField(max_length=100)
    subject = models.CharField(max_length=500)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="email_template_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header's unread count and the user's list.
            models.Index(fields=["user", "workspace", "-created_at"], name="notif_user_created"),
        ]

    def __str__(self) -> str:
        return self.title


class InboundDelivery(models.Model):
    """Webhook-ids already accepted per automation, so a replayed delivery runs once."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="+")
    webhook_id = models.CharField(max_length=200)
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["automation", "webhook_id"], name="inbound_delivery_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.automation_id} {self.webhook_id}"
