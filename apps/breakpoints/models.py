from django.conf import settings
from django.db import models

from apps.core.models import TimestampedModel, UUIDModel
from apps.projects.models import Project
from apps.runs.models import Run, RunStep


class ConditionType(models.TextChoices):
    STEP_TYPE = "step_type"
    STEP_NAME = "step_name"
    CUSTOM = "custom"
    ON_ERROR = "on_error"


class HitStatus(models.TextChoices):
    WAITING = "waiting"
    RESUMED = "resumed"
    ABORTED = "aborted"


class HitAction(models.TextChoices):
    CONTINUE = "continue"
    SKIP = "skip"
    ABORT = "abort"


# What a person may decide at a paused step, as the run page's buttons name it ("edit" is continue
# with an edited input). A run recorded through a framework integration lists the ones its hooks
# allow, and a step of it may say its own (`metadata.breakpoint_actions`: a LangChain tool run
# through the SDK's wrapper allows more than its run, a model request less; docs/integrations.md).
# Continue and abort work everywhere.
DECISIONS = ("continue", "edit", "skip", "abort")
ALWAYS = ("continue", "abort")


def decisions_for(run: Run, step: RunStep | None = None) -> tuple[str, ...]:
    allowed = step.metadata.get("breakpoint_actions") if step is not None and isinstance(step.metadata, dict) else None
    if not isinstance(allowed, list):
        allowed = (run.integration or {}).get("actions")
    if not isinstance(allowed, list):
        return DECISIONS
    return tuple(decision for decision in DECISIONS if decision in allowed or decision in ALWAYS)


class HitPhase(models.TextChoices):
    # "before": the step was posted running and waits to execute; "after": it ended in an error.
    BEFORE = "before"
    AFTER = "after"


class Breakpoint(TimestampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="breakpoints")
    name = models.CharField(max_length=255, null=True, blank=True)
    condition_type = models.CharField(max_length=50, choices=ConditionType.choices)
    condition_value = models.JSONField()
    agent_name = models.CharField(max_length=255, null=True, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "breakpoints"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["project", "enabled"], name="bp_project_enabled_idx")]

    def __str__(self) -> str:
        return self.name or f"{self.condition_type} breakpoint"


class BreakpointHit(UUIDModel):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="breakpoint_hits")
    step = models.ForeignKey(RunStep, on_delete=models.CASCADE, related_name="breakpoint_hits")
    breakpoint = models.ForeignKey(Breakpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="hits")
    status = models.CharField(max_length=20, choices=HitStatus.choices, default=HitStatus.WAITING)
    phase = models.CharField(max_length=10, choices=HitPhase.choices, default=HitPhase.BEFORE)
    step_input = models.JSONField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=HitAction.choices, null=True, blank=True)
    edited_input = models.JSONField(null=True, blank=True)
    input_edited = models.BooleanField(default=False)
    skip_output = models.JSONField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    waited_ms = models.BigIntegerField(null=True, blank=True)
    # The SDK gave up waiting (its maximum wait) and went on as if Continue had been pressed.
    timed_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "breakpoint_hits"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["run", "status"], name="bp_hits_run_status_idx")]
        # A retried step post finds the hit it already made instead of pausing twice.
        constraints = [models.UniqueConstraint(fields=["step", "phase"], name="bp_hits_step_phase_uniq")]

    def __str__(self) -> str:
        return f"hit {self.status} on {self.step_id}"

    @property
    def is_waiting(self) -> bool:
        return self.status == HitStatus.WAITING

    @property
    def breakpoint_label(self) -> str:
        return str(self.breakpoint) if self.breakpoint_id else "(deleted)"

    def abort_message(self) -> str:
        who = self.resolved_by.email if self.resolved_by_id else "someone"
        return f"Aborted by {who} at breakpoint {self.breakpoint_label} on step {self.step.step_index}"
