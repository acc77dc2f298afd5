"""A daily rollup of runs for the dashboard: closed UTC days are summed once, today is counted live.

A day is rolled up the first time the dashboard needs it (a `RollupDay` row says it was, with one
`AgentDay` row per agent that ran that day) and forgotten again (`rollup_invalidate`) when a run that
started that day is created, changed or deleted, so the numbers stay those of the runs table.
"""

from django.db import models

from apps.projects.models import Project


class RollupDay(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        db_table = "dashboard_rollup_days"
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="dashboard_rollup_day_uniq")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day}"


class AgentDay(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    agent_name = models.CharField(max_length=255, blank=True)  # "" for runs without an agent name
    runs = models.IntegerField()
    failed = models.IntegerField()
    duration_sum = models.BigIntegerField()
    duration_count = models.IntegerField()  # runs with a duration: the average's denominator

    class Meta:
        db_table = "dashboard_agent_days"
        constraints = [
            models.UniqueConstraint(fields=["project", "day", "agent_name"], name="dashboard_agent_day_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_name or '(no agent)'}: {self.runs} runs"
