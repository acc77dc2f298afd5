"""What the SDK's writes do beyond storing a row: the control answer for a posted step, and the
tests scheduled when a run ends."""

from uuid import UUID

from django.db import IntegrityError, transaction

from apps.breakpoints.services import breakpoint_check_step
from apps.dashboard.services import rollup_invalidate
from apps.projects.models import Project
from apps.runs.models import Run, RunStep
from apps.runs.selectors import run_get_for_project
from apps.runs.services import run_end, run_update, step_create, step_update
from apps.testing.services import tests_schedule_for_run


def step_control(*, run: Run, step: RunStep) -> dict:
    """What the agent does after posting `step`: continue, or pause on a breakpoint it matches."""
    return breakpoint_check_step(run=run, step=step)


def ingest_step_create(*, project: Project, run_id: UUID, data: dict) -> tuple[RunStep, bool, dict]:
    """(step, created, control). Runs under the run's row lock so step indexes never collide."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                run = run_get_for_project(project=project, run_id=run_id, lock=True)
                step, created = step_create(run=run, data=data)
                rollup_invalidate(project_id=project.pk, started_at=run.started_at)  # its duration may change
                return step, created, step_control(run=run, step=step)
        except IntegrityError:
            # The same step id went into the database between our check and insert; checking
            # again answers as for any retry (the stored step, or 409 when it is another run's).
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def ingest_step_update(*, project: Project, run_id: UUID, step_id: UUID, data: dict) -> tuple[RunStep, dict]:
    """(step, control): a step that ends in an error may pause on an `on_error` breakpoint."""
    run = run_get_for_project(project=project, run_id=run_id, lock=True)
    step = step_update(run=run, step_id=step_id, data=data)
    rollup_invalidate(project_id=project.pk, started_at=run.started_at)  # its duration may change
    return step, step_control(run=run, step=step)


@transaction.atomic
def ingest_run_update(*, project: Project, run_id: UUID, data: dict) -> Run:
    run = run_update(project=project, run_id=run_id, data=data)
    tests_schedule_for_run(run=run)
    return run


@transaction.atomic
def ingest_run_end(*, project: Project, run_id: UUID, data: dict) -> Run:
    """Ends the run; once committed, the enabled tests that target it judge it."""
    run = run_end(project=project, run_id=run_id, data=data)
    tests_schedule_for_run(run=run)
    return run
