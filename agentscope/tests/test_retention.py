"""Retention across the apps: `prune_runs` deletes exactly what is past each project's period, in every
table that hangs from a run, keeps tests and breakpoints, and leaves the rollup equal to a recount."""

from collections import Counter, defaultdict
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.breakpoints.models import Breakpoint, BreakpointHit
from apps.mcp.models import McpLog
from apps.runs import retention
from apps.runs.models import Run, RunStatus, RunStep
from apps.runs.rollup import rollup_rows
from apps.runs.services import run_create, run_end, step_create
from apps.testing.models import Test, TestRun

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timezone.now()


def make_run(project, *, days_ago: float, steps: int = 3, agent="bot", failed=False, **fields) -> Run:
    started = NOW - timedelta(days=days_ago)
    run = run_create(project=project, agent_name=agent, started_at=started, **fields)[0]
    parent = None
    for n in range(steps):  # a chain: each step nested in the one before, so chunks split parents from children
        step = step_create(run=run, data={"step_type": "tool_call", "name": f"s{n}", "parent_id": parent, "output": n})[
            0
        ]
        parent = step.pk
    error = {"message": "boom"} if failed else None
    run_end(project=project, run_id=run.pk, data={"ended_at": started + timedelta(seconds=2), "error": error})
    return Run.objects.get(pk=run.pk)


def decorate(project, run: Run, *, at) -> None:
    """A breakpoint hit, a verdict and an MCP call on the run, as the apps above runs record them."""
    breakpoint_ = Breakpoint.objects.get_or_create(
        project=project, name="bp", condition_type="step_type", condition_value="tool_call"
    )[0]
    test = Test.objects.get_or_create(project=project, name="t", test_type="custom", config={"expression": "`true`"})[0]
    BreakpointHit.objects.create(run=run, step=run.steps.first(), breakpoint=breakpoint_)
    TestRun.objects.create(test=test, run=run, status="passed", executed_at=at)
    McpLog.objects.create(project=project, run=run, log_type="response", created_at=at)


def recount(project) -> dict:
    first, last = NOW.date() - timedelta(days=60), NOW.date() - timedelta(days=1)
    counts = defaultdict(lambda: [0, 0])
    for run in Run.objects.filter(project=project):
        day = run.started_at.astimezone(UTC).date()
        if first <= day <= last:
            counts[(day, run.agent_name or "")][0] += 1
            counts[(day, run.agent_name or "")][1] += run.status == RunStatus.FAILED
    return {key: tuple(value) for key, value in counts.items()}


def rolled(project) -> dict:
    rows = rollup_rows(
        project_id=project.pk, first=NOW.date() - timedelta(days=60), last=NOW.date() - timedelta(days=1)
    )
    return {(r["day"], r["agent_name"]): (r["runs"], r["failed"]) for r in rows if r["runs"]}


@pytest.fixture
def seeded(project, bob_project):
    project.retention_days = 30
    project.save()
    old = [make_run(project, days_ago=40 + n, steps=4, failed=n % 2) for n in range(3)]
    kept = make_run(project, days_ago=10, steps=2)
    replay = make_run(project, days_ago=5, steps=1, replay_of=old[0].pk)  # points at a run that goes
    for run in old:
        decorate(project, run, at=run.started_at + timedelta(minutes=1))
    decorate(project, kept, at=kept.started_at)
    late_verdict = TestRun.objects.create(test=Test.objects.get(project=project), run=old[1], status="failed")
    McpLog.objects.create(project=project, log_type="response", created_at=NOW - timedelta(days=31))  # no run
    bob_old = make_run(bob_project, days_ago=400, steps=2)  # bob keeps everything (no site default)
    assert rolled(project) == recount(project)  # the rollup is filled before the prune: it must be marked stale
    return {"old": old, "kept": kept, "replay": replay, "late_verdict": late_verdict, "bob_old": bob_old}


def test_it_deletes_what_is_past_each_projects_period(project, seeded):
    plan = retention.prune_plan(project=project, cutoff=project.retention_cutoff(NOW))
    assert plan == Counter(runs=3, run_steps=12, breakpoint_hits=3, test_runs=3, mcp_logs=4)

    deleted = retention.project_prune(project=project, cutoff=project.retention_cutoff(NOW), chunk_steps=3)

    assert deleted == Counter(runs=3, run_steps=12, breakpoint_hits=3, test_runs=3, mcp_logs=4)
    assert set(Run.objects.filter(project=project)) == {seeded["kept"], seeded["replay"]}
    assert not RunStep.objects.filter(run_id__in=[r.pk for r in seeded["old"]]).exists()
    assert RunStep.objects.filter(run=seeded["kept"]).count() == 2
    assert BreakpointHit.objects.get().run_id == seeded["kept"].pk
    assert McpLog.objects.get().run_id == seeded["kept"].pk
    # A verdict given today on a pruned run is not past the period: it stays, unlinked.
    assert set(TestRun.objects.values_list("pk", "run_id")) == {
        (seeded["late_verdict"].pk, None),
        (TestRun.objects.get(run=seeded["kept"]).pk, seeded["kept"].pk),
    }
    assert Run.objects.get(pk=seeded["replay"].pk).replay_of_id is None
    assert Run.objects.filter(pk=seeded["bob_old"].pk).exists()


def test_tests_and_breakpoints_are_never_pruned(project, seeded):
    retention.project_prune(project=project, cutoff=NOW + timedelta(days=1), chunk_steps=100)

    assert not Run.objects.filter(project=project).exists()
    assert Test.objects.filter(project=project).count() == 1
    assert Breakpoint.objects.filter(project=project).count() == 1


def test_the_rollup_equals_a_recount_after_the_prune(project, seeded):
    retention.project_prune(project=project, cutoff=project.retention_cutoff(NOW), chunk_steps=5)

    assert rolled(project) == recount(project)
    assert len(recount(project)) == 2  # the days of the two runs kept; the old days are empty


def test_the_command_prunes_every_project_by_its_own_period(project, bob_project, seeded, settings):
    settings.RETENTION_DAYS = 365  # bob follows the site default; alice's 30 days win for her
    out = StringIO()

    call_command("prune_runs", "--no-progress", "--chunk", "2", stdout=out)

    assert "Deleted" in out.getvalue()
    assert not Run.objects.filter(pk=seeded["bob_old"].pk).exists()
    assert Run.objects.filter(project=project).count() == 2


def test_the_dry_run_prints_and_deletes_nothing(project, seeded):
    out = StringIO()

    call_command("prune_runs", "--dry-run", stdout=out)

    assert "run_steps 12" in out.getvalue() and "runs 3" in out.getvalue()
    assert Run.objects.filter(project=project).count() == 5


def test_keep_forever_prunes_nothing(project, seeded, settings):
    settings.RETENTION_DAYS = 1
    project.retention_days = 0
    project.save()

    call_command("prune_runs", "--no-progress", stdout=StringIO())

    assert Run.objects.filter(project=project).count() == 5
