import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import TimestampedModel, UUIDModel
from apps.orgs.models import Organization

KEY_PREFIX = "as_"
PREFIX_LENGTH = 11  # "as_" and the first 8 characters of the secret


class Project(TimestampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    # Who created the project (the brief's column); who may see it is the organization's business.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, null=True)
    # Days its runs are kept: null follows the site's RETENTION_DAYS, 0 keeps them forever.
    retention_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "projects"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

    def retention(self) -> int | None:
        """The days its runs are kept: its own period, else the site's; None keeps them forever."""
        days = settings.RETENTION_DAYS if self.retention_days is None else self.retention_days
        return days or None

    def retention_cutoff(self, now) -> datetime | None:
        """What started before this is past the retention period (None: nothing ever is)."""
        days = self.retention()
        return None if days is None else now - timedelta(days=days)


class ApiKey(UUIDModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    key_hash = models.CharField(max_length=255, unique=True)
    key_prefix = models.CharField(max_length=12)
    name = models.CharField(max_length=255, blank=True, null=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_keys"
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.name or 'unnamed'})"

    @staticmethod
    def generate() -> str:
        return KEY_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def needs_touch(self, now=None) -> bool:
        now = now or timezone.now()
        return self.last_used_at is None or now - self.last_used_at >= settings.API_KEY_TOUCH_INTERVAL
