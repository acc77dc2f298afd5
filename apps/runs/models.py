from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import UUIDModel
from apps.projects.models import Project


class RunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"


class StepType(models.TextChoices):
    LLM_CALL = "llm_call", "LLM call"
    TOOL_CALL = "tool_call", "Tool call"
    RETRIEVAL = "retrieval"
    CUSTOM = "custom"
    ERROR = "error"


class StepStatus(models.TextChoices):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Run(UUIDModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    agent_name = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=50, choices=RunStatus.choices, default=RunStatus.RUNNING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays")
    replay_from_step = models.IntegerField(null=True, blank=True)
    # Kept current by the ingest service so list pages never aggregate steps.
    step_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    duration_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "runs"
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(external_id__isnull=False),
                name="runs_project_external_id_uniq",
            )
        ]
        # Each list filter has an index in the list's order (newest first), so a page reads its rows
        # and no more however many runs the project holds.
        indexes = [
            models.Index(fields=["project", "-started_at"], name="runs_project_started_idx"),
            models.Index(fields=["project", "status", "-started_at"], name="runs_project_status_idx"),
            models.Index(fields=["project", "agent_name", "-started_at"], name="runs_project_agent_time_idx"),
            # `q` matches the start of an external id: a LIKE 'prefix%' this index serves in any collation
            # (the opclasses apply on PostgreSQL; SQLite ignores them).
            models.Index(
                fields=["project", "external_id"],
                name="runs_project_extid_prefix_idx",
                opclasses=["uuid_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name or 'run'} {self.id}"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.COMPLETED, RunStatus.FAILED)


class RunStep(UUIDModel):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_index = models.IntegerField()
    step_type = models.CharField(max_length=50, choices=StepType.choices)
    name = models.CharField(max_length=255, null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    tokens_used = models.IntegerField(null=True, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.COMPLETED)

    class Meta:
        db_table = "run_steps"
        ordering = ["run_id", "step_index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step_index"], name="idx_run_steps_step_index"),
        ]

    def __str__(self) -> str:
        return f"#{self.step_index} {self.step_type} {self.name or ''}".strip()
