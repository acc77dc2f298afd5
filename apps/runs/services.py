"""Writes to runs and their steps, and the counters on the run that list pages read.

Counters (`step_count`, `error_count`, `total_tokens`, `duration_ms`) change only here, inside the
transaction that holds the run's row lock (`run_get_for_project(lock=True)`), so they stay exact
under concurrent posts. A step counts as an error when it failed or carries an `error`.
`duration_ms` is `ended_at - started_at` once the run has ended; while it runs, it is the latest
step `ended_at` seen so far minus `started_at`, so a live run shows how long it has been going.
Metadata sent by an update is merged (shallowly) into what is stored; `null` clears it.

The `*_apply_*` and `step_build` helpers change objects in memory only: the single endpoints save
them one by one, the batch (apps.ingest.batch) saves them in bulk, and both follow the same rules.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.projects.models import Project
from apps.runs.models import Run, RunStatus, RunStep, StepStatus, StepType
from apps.runs.selectors import run_get_for_project, step_get_for_run

INT_MAX = 2**31 - 1
FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED)
RUN_WRITE_FIELDS = ["status", "output", "error", "metadata", "ended_at", "duration_ms"]
STEP_NEW_FIELDS = (
    "step_type", "name", "input", "output", "metadata", "error",
    "tokens_used", "latency_ms", "started_at", "ended_at", "parent_id",
)  # fmt: skip
STEP_PATCH_FIELDS = ["output", "error", "metadata", "tokens_used", "latency_ms", "ended_at", "status"]
_MILLISECOND = timedelta(milliseconds=1)


def elapsed_ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, (end - start) // _MILLISECOND)


def metadata_merged(current: dict | None, update: dict | None) -> dict | None:
    if update is None:
        return None
    return {**(current or {}), **update}


# Rules, in memory --------------------------------------------------------------------------------


def step_status_for(*, step_type: str, output, error, ended_at) -> str:
    """Failed when it carries an error; running while it has neither output nor end; else completed."""
    if error is not None or step_type == StepType.ERROR:
        return StepStatus.FAILED
    if output is None and ended_at is None:
        return StepStatus.RUNNING
    return StepStatus.COMPLETED


def step_counts_as_error(step: RunStep) -> bool:
    return step.status == StepStatus.FAILED or step.error is not None


def step_build(*, run: Run, data: dict, step_index: int) -> RunStep:
    step = RunStep(run=run, step_index=step_index, **{k: data[k] for k in STEP_NEW_FIELDS if k in data})
    if data.get("id"):
        step.id = data["id"]
    step.status = data.get("status") or step_status_for(
        step_type=step.step_type, output=step.output, error=step.error, ended_at=step.ended_at
    )
    if step.latency_ms is None and step.ended_at is not None:
        step.latency_ms = _latency(step.started_at, step.ended_at)
    return step


def step_apply_patch(*, step: RunStep, data: dict, now: datetime) -> tuple[int, int]:
    """Completes `step` with `data`; returns the (errors, tokens) it adds to the run's counters.

    Applying the same patch twice changes nothing the second time, so retries keep counters exact.
    """
    was_error, old_tokens = step_counts_as_error(step), step.tokens_used or 0
    for field in ("output", "error", "tokens_used", "latency_ms"):
        if field in data:
            setattr(step, field, data[field])
    if "metadata" in data:
        step.metadata = metadata_merged(step.metadata, data["metadata"])
    step.ended_at = data.get("ended_at") or step.ended_at or now
    if step.latency_ms is None:
        step.latency_ms = _latency(step.started_at or step.created_at, step.ended_at)
    failed = step.error is not None or step.step_type == StepType.ERROR
    step.status = data.get("status") or (StepStatus.FAILED if failed else StepStatus.COMPLETED)
    return int(step_counts_as_error(step)) - int(was_error), (step.tokens_used or 0) - old_tokens


def run_apply_patch(*, run: Run, data: dict, now: datetime) -> None:
    for field in ("status", "output", "error"):
        if field in data:
            setattr(run, field, data[field])
    if "metadata" in data:
        run.metadata = metadata_merged(run.metadata, data["metadata"])
    if run.status in FINISHED and run.ended_at is None:
        run.ended_at = now
        run.duration_ms = elapsed_ms(run.started_at, run.ended_at)


def run_apply_end(*, run: Run, data: dict, now: datetime) -> None:
    """Ends the run: a retry without `ended_at` keeps the first end time, so ending is idempotent."""
    for field in ("output", "error"):
        if field in data:
            setattr(run, field, data[field])
    if "metadata" in data:
        run.metadata = metadata_merged(run.metadata, data["metadata"])
    run.ended_at = data.get("ended_at") or run.ended_at or now
    run.status = data.get("status") or (RunStatus.FAILED if run.error is not None else RunStatus.COMPLETED)
    run.duration_ms = elapsed_ms(run.started_at, run.ended_at)


def run_live_duration(*, run: Run, step_ended_at: datetime | None) -> int | None:
    """The run's duration after a step ending at `step_ended_at`, or None when it doesn't change."""
    if run.ended_at is not None or step_ended_at is None:
        return None
    live = elapsed_ms(run.started_at, step_ended_at)
    return live if run.duration_ms is None or live > run.duration_ms else None


def _latency(start: datetime | None, end: datetime | None) -> int | None:
    latency = elapsed_ms(start, end)
    return None if latency is None else min(latency, INT_MAX)


# Writes ------------------------------------------------------------------------------------------


def run_build(
    *,
    project: Project,
    agent_name: str,
    id: UUID | None = None,
    external_id: str | None = None,
    input=None,
    metadata: dict | None = None,
    started_at: datetime | None = None,
    status: str | None = None,
) -> Run:
    run = Run(project=project, agent_name=agent_name, external_id=external_id or None, input=input, metadata=metadata)
    run.status = status or RunStatus.RUNNING
    if id:
        run.id = id
    if started_at:
        run.started_at = started_at
    return run


def run_create(
    *, project: Project, id: UUID | None = None, external_id: str | None = None, **fields
) -> tuple[Run, bool]:
    """The new run and True, or the run this `id`/`external_id` already names and False (a retry).

    `fields` are those of `run_build`. An `id` taken by another project's run is a 409.
    """
    existing = _run_existing(project=project, run_id=id, external_id=external_id)
    if existing is not None:
        return existing, False
    run = run_build(project=project, id=id, external_id=external_id, **fields)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:  # a concurrent retry created it first
        existing = _run_existing(project=project, run_id=id, external_id=external_id)
        if existing is None:
            raise
        return existing, False
    return run, True


def _run_existing(*, project: Project, run_id: UUID | None, external_id: str | None) -> Run | None:
    if not run_id and not external_id:
        return None
    match = Q(pk=run_id) if run_id else Q()
    if external_id:
        match |= Q(project=project, external_id=external_id)
    found = list(Run.objects.filter(match)[:2])
    by_id = next((run for run in found if run.pk == run_id), None)
    if by_id is not None and by_id.project_id != project.pk:
        raise run_id_taken()
    return by_id or (found[0] if found else None)


def run_id_taken() -> ApplicationError:
    return ApplicationError(
        "This run id is already taken.", errors={"id": ["Already taken: choose another id."]}, status=409
    )


@transaction.atomic
def run_update(*, project: Project, run_id: UUID, data: dict) -> Run:
    run = run_get_for_project(project=project, run_id=run_id, lock=True)
    run_apply_patch(run=run, data=data, now=timezone.now())
    run.save(update_fields=RUN_WRITE_FIELDS)
    return run


@transaction.atomic
def run_end(*, project: Project, run_id: UUID, data: dict) -> Run:
    run = run_get_for_project(project=project, run_id=run_id, lock=True)
    run_apply_end(run=run, data=data, now=timezone.now())
    run.save(update_fields=RUN_WRITE_FIELDS)
    return run


def step_create(*, run: Run, data: dict) -> tuple[RunStep, bool]:
    """Adds a step to `run`, whose row lock the caller holds; a retried `id` returns the stored step.

    A step sent to an ended run is stored too: late steps are data, not errors.
    """
    if data.get("id"):
        existing = RunStep.objects.filter(pk=data["id"]).order_by().first()  # no join for Meta.ordering
        if existing is not None:
            if existing.run_id != run.pk:
                raise step_id_taken()
            return existing, False
    if data.get("parent_id") and not RunStep.objects.filter(run=run, pk=data["parent_id"]).exists():
        raise step_parent_unknown()
    step_index = data.get("step_index")
    if step_index is None:
        step_index = step_next_index(run=run)
    elif RunStep.objects.filter(run=run, step_index=step_index).exists():
        raise step_index_taken(step_index)
    step = step_build(run=run, data=data, step_index=step_index)
    step.save(force_insert=True)
    run_counters_add(
        run=run,
        steps=1,
        errors=int(step_counts_as_error(step)),
        tokens=step.tokens_used or 0,
        step_ended_at=step.ended_at,
    )
    return step, True


def step_next_index(*, run: Run) -> Coalesce:
    """One past the highest index, worked out by the step's INSERT itself (saving a query): that
    statement starts after the caller took the run lock, so concurrent posts never share an index,
    and `save()` reads the value back (RETURNING)."""
    highest = RunStep.objects.filter(run_id=run.pk).order_by().values("run_id").annotate(top=Max("step_index"))
    return Coalesce(Subquery(highest.values("top")) + 1, 0)


def step_id_taken() -> ApplicationError:
    return ApplicationError(
        "This step id is already taken.", errors={"id": ["Already taken: choose another id."]}, status=409
    )


def step_parent_unknown() -> ApplicationError:
    return ApplicationError("parent_id: no such step in this run.", errors={"parent_id": ["No such step in this run."]})


def step_index_taken(step_index: int) -> ApplicationError:
    message = f"Step index {step_index} is already taken in this run."
    return ApplicationError(message, errors={"step_index": [message]}, status=409)


def step_update(*, run: Run, step_id: UUID, data: dict) -> RunStep:
    """Completes a step of `run` (whose row lock the caller holds); a retried patch changes nothing."""
    step = step_get_for_run(run=run, step_id=step_id)
    errors, tokens = step_apply_patch(step=step, data=data, now=timezone.now())
    step.save(update_fields=STEP_PATCH_FIELDS)
    run_counters_add(run=run, errors=errors, tokens=tokens, step_ended_at=step.ended_at)
    return step


def run_counters_add(
    *, run: Run, steps: int = 0, errors: int = 0, tokens: int = 0, step_ended_at: datetime | None = None
) -> None:
    """Adds to the run's counters in the database (F expressions) and on `run`; caller holds the lock."""
    changes = {}
    for field, delta in (("step_count", steps), ("error_count", errors), ("total_tokens", tokens)):
        if delta:
            changes[field] = F(field) + delta
            setattr(run, field, getattr(run, field) + delta)
    live = run_live_duration(run=run, step_ended_at=step_ended_at)
    if live is not None:
        changes["duration_ms"] = run.duration_ms = live
    if changes:
        Run.objects.filter(pk=run.pk).update(**changes)


@transaction.atomic
def run_delete(*, run: Run) -> None:
    """Deletes the run with its steps; test runs, MCP logs and replays that named it keep a null."""
    run.delete()
