from django.db import models
from django.utils import timezone

from apps.core.models import TimestampedModel, UUIDModel
from apps.projects.models import Project
from apps.runs.models import Run


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
