from uuid import UUID

from django.shortcuts import get_object_or_404

from apps.projects.models import Project
from apps.runs.models import Run, RunStep


def run_get_for_project(*, project: Project, run_id: UUID, lock: bool = False) -> Run:
    """The project's run, or 404: another project's run must look like no run at all.

    `lock=True` takes the row lock (PostgreSQL `SELECT ... FOR UPDATE`) that serialises every write
    to the run and its counters; call it inside a transaction.
    """
    runs = Run.objects.select_for_update() if lock else Run.objects.all()
    return get_object_or_404(runs, project=project, pk=run_id)


def step_get_for_run(*, run: Run, step_id: UUID) -> RunStep:
    return get_object_or_404(RunStep, run=run, pk=step_id)
