"""Writes to runs and their steps, one at a time: each is an event of the one write path
(apps.runs.writes), which applies the rules and keeps the counters and the daily rollup right.

Counters (`step_count`, `error_count`, `total_tokens`, `duration_ms`) change only there, under the
run's row lock, so they stay exact under concurrent posts. `duration_ms` is `ended_at - started_at`
once the run has ended; while it runs, it is the latest step `ended_at` seen so far minus
`started_at`, so a live run shows how long it has been going.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.orgs.audit import Actor, audit_record
from apps.projects.models import Project
from apps.runs.models import Run, RunStep
from apps.runs.rollup import rollup_days_touch, rollup_key
from apps.runs.writes import Result, runs_write

UNSET: Any = object()


def run_create(
    *, project: Project, id: UUID | None = None, external_id: str | None = None, **fields
) -> tuple[Run, bool]:
    """The new run and True, or the run this `id`/`external_id` already names and False (a retry).
    An `id` taken by another project's run is a 409."""
    result = _one(project.pk, "run.create", {"id": id, "external_id": external_id, **fields})
    return result.run, result.status == 201


def run_update(*, project: Project, run_id: UUID, data: dict) -> Run:
    return _one(project.pk, "run.update", {**data, "run_id": run_id}).run


def run_end(*, project: Project, run_id: UUID, data: dict) -> Run:
    """Ends the run: a retry without `ended_at` keeps the first end time, so ending is idempotent."""
    return _one(project.pk, "run.end", {**data, "run_id": run_id}).run


def run_pause(*, run: Run) -> bool:
    """A running (or pending) run waits at a breakpoint; False when it was not running."""
    return _moved(run, "run.pause")


def run_unpause(*, run: Run) -> bool:
    return _moved(run, "run.unpause")


def run_abort(*, run: Run, error: dict, ended_at: datetime) -> bool:
    """Ends an unfinished run as failed with `error`; False when it had already ended."""
    return _moved(run, "run.abort", error=error, ended_at=ended_at)


def step_create(*, run: Run, data: dict) -> tuple[RunStep, bool]:
    """Adds a step to `run`; a retried `id` returns the stored step. A step sent to an ended run is
    stored too: late steps are data, not errors."""
    result = _one(run.project_id, "step.create", {**data, "run_id": run.pk})
    return result.step, result.status == 201


def step_update(*, run: Run, step_id: UUID, data: dict) -> RunStep:
    """Completes a step of `run`; a retried patch changes nothing."""
    return _one(run.project_id, "step.update", {**data, "id": step_id, "run_id": run.pk}).step


def step_note(*, run: Run, step_id: UUID, metadata: dict, input: Any = UNSET) -> None:
    """Merges `metadata` into the step's, and replaces its input when one is given; its status,
    times and counters are left as they are."""
    data = {"id": step_id, "run_id": run.pk, "metadata": metadata}
    if input is not UNSET:
        data["input"] = input
    _one(run.project_id, "step.note", data)


def run_restart(*, run: Run, status: str, started_at: datetime) -> None:
    """A replay is picked up: its status and clock move."""
    _moved(run, "run.restart", status=status, started_at=started_at)


@transaction.atomic
def run_delete(*, run: Run, actor: Actor | None = None) -> None:
    """Deletes the run with its steps; test runs, MCP logs and replays that named it keep a null."""
    day = rollup_key(run)[0]
    audit_record(
        actor=actor, organization_id=run.project.organization_id, action="run.deleted", target=run,
        changes={"project": str(run.project_id), "agent_name": run.agent_name, "steps": run.step_count},
    )  # fmt: skip
    run.delete()
    rollup_days_touch(project_id=run.project_id, days={day}, now=timezone.now())


def _one(project_id: UUID, kind: str, data: dict) -> Result:
    return runs_write(project_id=project_id, events=[(kind, data)]).results[0].get()


def _moved(run: Run, kind: str, **data) -> bool:
    """Applies a move of `run`'s status to the stored run, then to `run`; whether it took place."""
    result = _one(run.project_id, kind, {**data, "run_id": run.pk})
    for name in ("status", "error", "ended_at", "duration_ms", "started_at"):
        setattr(run, name, getattr(result.run, name))
    return result.changed


def search_reindex(*, batch: int = 1000, everything: bool = False) -> tuple[int, int]:
    """Fills the `search` column (apps.runs.search) of runs and steps written before search existed
    (or, with `everything`, of all of them), `batch` rows per statement; (runs, steps) done. The
    write path keeps it for everything written since, so this runs once, after the upgrade."""
    from apps.runs.events import SEARCHED_RUN_FIELDS, SEARCHED_STEP_FIELDS, run_document, step_document

    done = []
    for model, fields, make in (
        (Run, SEARCHED_RUN_FIELDS, run_document),
        (RunStep, SEARCHED_STEP_FIELDS, lambda row: step_document({n: getattr(row, n) for n in SEARCHED_STEP_FIELDS})),
    ):
        rows = model.objects.all() if everything else model.objects.filter(search__isnull=True)
        count, last = 0, None
        while True:
            page = rows.filter(pk__gt=last) if last else rows
            chunk = list(page.order_by("pk").only("pk", *fields)[:batch])
            if not chunk:
                break
            for row in chunk:
                row.search = make(row)
            with transaction.atomic():
                model.objects.bulk_update(chunk, ["search"])
            count, last = count + len(chunk), chunk[-1].pk
        done.append(count)
    return done[0], done[1]
