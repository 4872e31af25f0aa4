import hashlib

from django.conf import settings
from django.db import models


class Workspace(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Outbound webhooks are signed with a secret derived from SECRET_KEY, the workspace id and
    # this random value (automations.signing), so the database alone never holds a secret.
    # Empty until the first rotation, as for every workspace before secrets could be rotated.
    webhook_secret_nonce = models.CharField(max_length=64, blank=True, default="")
    # The value before the last rotation: its secret still signs, beside the new one, for a
    # grace period after webhook_secret_rotated_at, so receivers can switch over.
    previous_webhook_secret_nonce = models.CharField(max_length=64, blank=True, default="")
    webhook_secret_rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


def hash_api_key(key: str) -> str:
    # Keys are 256 bits of randomness, so a fast unsalted hash is enough: a database dump holds
    # nothing that can be turned back into a usable key.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key")
    key_hash = models.CharField(max_length=64, unique=True)  # unique index: lookup per request
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.workspace})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
