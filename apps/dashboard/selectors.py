from datetime import timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.projects.models import Project
from apps.runs.models import Run, RunStatus
from apps.testing.models import TestRun, TestRunStatus


def project_stats(*, project: Project, days: int = 7, now=None) -> dict:
    """The numbers of the dashboard and of GET /api/projects/{id}/stats, over the last `days` days."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    runs = Run.objects.filter(project=project, started_at__gte=since)
    totals = runs.aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        avg_latency=Avg("duration_ms"),
    )
    tests = TestRun.objects.filter(test__project=project, executed_at__gte=since).aggregate(
        total=Count("id"), passed=Count("id", filter=Q(status=TestRunStatus.PASSED))
    )
    by_day = {
        row["day"]: row
        for row in runs.annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(runs=Count("id"), failed=Count("id", filter=Q(status=RunStatus.FAILED)))
    }
    first_day = since.date()
    runs_by_day = []
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        if day > now.date():
            break
        row = by_day.get(day, {})
        runs_by_day.append({"date": day.isoformat(), "runs": row.get("runs", 0), "failed": row.get("failed", 0)})
    avg = totals["avg_latency"]
    return {
        "total_runs": totals["total"],
        "failed_runs": totals["failed"],
        "avg_latency_ms": round(avg, 1) if avg is not None else None,
        "test_pass_rate": round(tests["passed"] / tests["total"], 4) if tests["total"] else None,
        "runs_by_day": runs_by_day[-days:],
    }
