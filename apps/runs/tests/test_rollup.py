"""The daily rollup stays what a recount of the runs table gives, whatever the writes: random sequences
of creates, steps, ends, status changes, pauses, aborts, restarts and deletes, on closed days and
today, with the dashboard reading (and filling) the rollup between them."""

import random
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from apps.runs.models import AgentDay, RollupDay, Run, RunStatus
from apps.runs.rollup import rollup_rows
from apps.runs.services import (
    run_abort,
    run_create,
    run_delete,
    run_end,
    run_pause,
    run_restart,
    run_unpause,
    run_update,
    step_create,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
DAYS = 5  # closed days: the five before today
AGENTS = ["planner", "support-bot", None, ""]


def recount(project) -> dict:
    """What the rollup must say: the runs of each closed day and agent, counted from the runs table."""
    first = NOW.date() - timedelta(days=DAYS)
    counts = defaultdict(lambda: [0, 0, 0, 0])
    for run in Run.objects.filter(project=project):
        day = run.started_at.astimezone(UTC).date()
        if first <= day < NOW.date():
            row = counts[(day, run.agent_name or "")]
            row[0] += 1
            row[1] += run.status == RunStatus.FAILED
            if run.duration_ms is not None:
                row[2] += run.duration_ms
                row[3] += 1
    return {key: tuple(value) for key, value in counts.items()}


def rolled(project) -> dict:
    rows = rollup_rows(
        project_id=project.pk, first=NOW.date() - timedelta(days=DAYS), last=NOW.date() - timedelta(days=1)
    )
    keys = ("runs", "failed", "duration_sum", "duration_count")
    return {(row["day"], row["agent_name"]): tuple(row[k] for k in keys) for row in rows if row["runs"]}


class Writer:
    """Random writes through the runs' services, the way ingest, breakpoints and replay make them."""

    def __init__(self, project, rng: random.Random):
        self.project, self.rng = project, rng

    def moment(self) -> datetime:
        midnight = datetime.combine(NOW.date(), time.min, tzinfo=UTC) - timedelta(days=self.rng.randint(0, DAYS))
        return min(midnight + timedelta(minutes=self.rng.randint(0, 24 * 60 - 1)), NOW - timedelta(minutes=1))

    def some_run(self) -> Run | None:
        runs = list(Run.objects.filter(project=self.project).order_by("id"))
        return self.rng.choice(runs) if runs else None

    def create(self, _run):
        run_create(project=self.project, agent_name=self.rng.choice(AGENTS), started_at=self.moment())

    def step(self, run):
        ended = (
            {"ended_at": run.started_at + timedelta(seconds=self.rng.randint(0, 5000))}
            if self.rng.random() < 0.7
            else {}
        )
        error = {"error": {"m": "x"}} if self.rng.random() < 0.2 else {}
        step_create(run=run, data={"step_type": "llm_call", "output": 1, **ended, **error})

    def end(self, run):
        data = {"ended_at": run.started_at + timedelta(seconds=self.rng.randint(0, 9000))}
        if self.rng.random() < 0.5:
            data["error"] = {"m": "boom"} if self.rng.random() < 0.5 else None
        run_end(project=self.project, run_id=run.pk, data=data)

    def update(self, run):
        status = self.rng.choice([RunStatus.RUNNING, RunStatus.FAILED, RunStatus.COMPLETED, RunStatus.PAUSED])
        run_update(project=self.project, run_id=run.pk, data={"status": status})

    def pause(self, run):
        (run_pause if self.rng.random() < 0.5 else run_unpause)(run=run)

    def abort(self, run):
        run_abort(run=run, error={"message": "Aborted"}, ended_at=run.started_at + timedelta(seconds=30))

    def restart(self, run):
        run_restart(run=run, status=RunStatus.RUNNING, started_at=self.moment())

    def delete(self, run):
        run_delete(run=run)

    def random_write(self):
        name = self.rng.choices(
            ["create", "step", "end", "update", "pause", "abort", "restart", "delete"], [6, 6, 3, 2, 2, 1, 1, 1]
        )[0]
        run = None if name == "create" else self.some_run()
        if name == "create" or run is not None:
            getattr(self, name)(run)


@pytest.mark.parametrize("seed", range(8))
def test_the_rollup_equals_a_recount_after_random_writes(project, monkeypatch, seed):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    rng = random.Random(seed)
    writer = Writer(project, rng)
    for _ in range(10):
        writer.create(None)
    for write in range(60):
        writer.random_write()
        if write % 3 or rng.random() < 0.5:  # reading fills the stale days again (most of the time)
            assert rolled(project) == recount(project), f"after write {write}"
    assert AgentDay.objects.filter(project=project).exists()


def test_todays_writes_leave_the_rollup_alone(project, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    run = run_create(project=project, agent_name="a", started_at=NOW - timedelta(hours=1))[0]
    rolled(project)
    versions = list(RollupDay.objects.values_list("day", "version"))
    step_create(run=run, data={"step_type": "custom", "ended_at": NOW})
    run_end(project=project, run_id=run.pk, data={"error": "x"})
    assert list(RollupDay.objects.values_list("day", "version")) == versions


def test_a_write_to_a_closed_day_makes_only_that_day_stale(project, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    old = run_create(project=project, agent_name="a", started_at=NOW - timedelta(days=2))[0]
    rolled(project)
    assert not RollupDay.objects.exclude(rolled_version=F("version")).exists()
    run_end(project=project, run_id=old.pk, data={"ended_at": old.started_at + timedelta(seconds=3)})
    stale = RollupDay.objects.exclude(rolled_version=F("version"))
    assert list(stale.values_list("day", flat=True)) == [old.started_at.date()]
    assert rolled(project) == recount(project) == {(old.started_at.date(), "a"): (1, 0, 3000, 1)}
