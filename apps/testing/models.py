from django.db import models
from django.utils import timezone

from apps.core.models import TimestampedModel, UUIDModel
from apps.projects.models import Project
from apps.runs.models import Run
from apps.testing.evaluators.base import same


class TestType(models.TextChoices):
    ASSERTION = "assertion"
    COMPARISON = "comparison"
    CUSTOM = "custom"


class TestRunStatus(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class Test(TimestampedModel):
    __test__ = False  # not a pytest test class

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tests")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, null=True)
    test_type = models.CharField(max_length=50, choices=TestType.choices, null=True, blank=True)
    config = models.JSONField()
    enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "tests"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> dict:
        target = self.config.get("target") if isinstance(self.config, dict) else None
        return target if isinstance(target, dict) else {}

    @property
    def input(self):
        return self.config.get("input") if isinstance(self.config, dict) else None

    @property
    def pass_rate(self) -> float | None:
        """Passed over judged (passed, failed, error) test runs; needs the selectors' annotations."""
        judged = getattr(self, "judged_count", None)
        return round(self.passed_count / judged, 4) if judged else None

    def targets(self, run: Run) -> bool:
        """Whether this test judges `run`: same project and agent, and every metadata value the target names."""
        target = self.target
        if run.project_id != self.project_id or not run.agent_name or run.agent_name != target.get("agent_name"):
            return False
        metadata = run.metadata if isinstance(run.metadata, dict) else {}
        wanted = target.get("metadata") or {}
        return all(key in metadata and same(metadata[key], value) for key, value in wanted.items())


class TestRun(UUIDModel):
    __test__ = False

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="test_runs")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="test_runs")
    status = models.CharField(max_length=50, choices=TestRunStatus.choices)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    executed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "test_runs"
        ordering = ["-executed_at"]
        indexes = [models.Index(fields=["test", "-executed_at"], name="test_runs_test_executed_idx")]

    def __str__(self) -> str:
        return f"{self.test} {self.status}"


BACKFILL_SIZES = (10, 25, 50, 100, 250)  # how many recent runs a person may ask a test to judge at once


class BackfillStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class TestBackfill(UUIDModel):
    """A test judging the last runs it targets at once ("Judge the last N runs"), off the request
    path (apps/testing/tasks.py). The runs are chosen when it is asked for (`run_ids`); its counters
    are its progress, which the page polls."""

    __test__ = False

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="backfills")
    run_ids = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=BackfillStatus.choices, default=BackfillStatus.QUEUED)
    done = models.IntegerField(default=0)
    passed = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)  # failed or erred
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "test_backfills"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.test} on {self.total} runs ({self.status})"

    @property
    def total(self) -> int:
        return len(self.run_ids)

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 100
