"""GET /api/projects/{id}/stats: the dashboard's numbers for one project."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import Run

pytestmark = pytest.mark.django_db


class TestStats:
    def test_it_has_its_final_keys_with_no_runs(self, api, project):
        body = api.get(f"/api/projects/{project.id}/stats").json()
        assert body["total_runs"] == 0 and body["failed_runs"] == 0
        assert body["avg_latency_ms"] is None and body["test_pass_rate"] is None
        assert len(body["runs_by_day"]) == 7

    def test_it_counts_runs(self, api, project):
        now = timezone.now()
        Run.objects.create(project=project, agent_name="a", status="completed", duration_ms=100, started_at=now)
        Run.objects.create(project=project, agent_name="a", status="failed", duration_ms=300, started_at=now)
        Run.objects.create(project=project, agent_name="a", status="failed", started_at=now - timedelta(days=30))
        body = api.get(f"/api/projects/{project.id}/stats").json()
        assert (body["total_runs"], body["failed_runs"], body["avg_latency_ms"]) == (2, 1, 200.0)
        assert body["runs_by_day"][-1] == {"date": now.date().isoformat(), "runs": 2, "failed": 1}
