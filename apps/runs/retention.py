"""Retention: what is older than a project's period is deleted (`manage.py prune_runs`, daily in the worker).

Runs and their steps go in chunks of at most `chunk_steps` rows, each its own short transaction, so
ingest never waits long on a lock. Rows of other apps that point at a run or a step are found through
the models' relations, whatever app declares them (runs names none of them): a CASCADE goes with the
run or step (breakpoint hits), a SET_NULL is unlinked. Tables that age on their own (test runs, MCP
logs) are registered by their apps with `register_aged` and pruned by their own time. Tests and
breakpoints are configuration: nothing here touches them. The daily rollup stays right: the days of
deleted runs are marked stale in the transaction that deletes them, and are summed again when read.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from apps.projects.models import Project
from apps.runs.models import Run, RunStep
from apps.runs.rollup import rollup_days_touch

RUN_BATCH = 500  # runs read at once; their steps go in chunks of `chunk_steps`


@dataclass(frozen=True)
class Aged:
    """A table whose rows are pruned by their own time: `time_field` older than the cutoff, in
    projects reached through `project_field`."""

    model: type[models.Model]
    time_field: str
    project_field: str

    @property
    def label(self) -> str:
        return self.model._meta.db_table

    def past(self, *, project: Project, cutoff: datetime) -> models.QuerySet:
        return self.model._base_manager.filter(
            **{self.project_field: project, f"{self.time_field}__lt": cutoff}
        ).order_by()


_aged: dict[str, Aged] = {}


def register_aged(model: type[models.Model], *, time_field: str, project_field: str) -> None:
    """Called from an app's `ready()`: its table is pruned with the runs (by label: ready may run twice)."""
    aged = Aged(model=model, time_field=time_field, project_field=project_field)
    _aged[aged.label] = aged


def runs_past(*, project: Project, cutoff: datetime) -> models.QuerySet[Run]:
    return Run.objects.filter(project=project, started_at__lt=cutoff).order_by()


def prune_plan(*, project: Project, cutoff: datetime) -> Counter:
    """What pruning the project at `cutoff` would delete, per table (the dry run, and the progress total)."""
    runs = runs_past(project=project, cutoff=cutoff)
    totals = runs.aggregate(runs=Count("*"), steps=Sum("step_count", default=0))
    plan = Counter({Run._meta.db_table: totals["runs"], RunStep._meta.db_table: totals["steps"]})
    for relation in _relations(Run):
        if relation.on_delete is models.CASCADE and relation.related_model is not RunStep:
            plan[relation.related_model._meta.db_table] += _pointing(relation, runs).count()
    for aged in _aged.values():
        plan[aged.label] += aged.past(project=project, cutoff=cutoff).count()
    return plan


def project_prune(
    *, project: Project, cutoff: datetime, chunk_steps: int, progress: Callable[[int], None] = lambda n: None
) -> Counter:
    """Deletes the project's runs that started before `cutoff` with everything hanging from them, then
    its aged rows; answers how many rows went, per table. `progress(n)` is told of each chunk."""
    deleted = Counter()
    for batch in _run_batches(project=project, cutoff=cutoff):
        run_ids = [run_id for run_id, _ in batch]
        steps = RunStep.objects.filter(run_id__in=run_ids).order_by()
        while step_ids := list(steps.values_list("pk", flat=True)[:chunk_steps]):
            with transaction.atomic():
                chunk = _delete_rows(RunStep, step_ids)
            deleted.update(chunk)
            progress(chunk.total())
        with transaction.atomic():
            chunk = _delete_rows(Run, run_ids)  # and steps written to these runs meanwhile
            days = {started_at.date() for _, started_at in batch}
            rollup_days_touch(project_id=project.pk, days=days, now=timezone.now())
        deleted.update(chunk)
        progress(chunk.total())
    for aged in _aged.values():
        rows = aged.past(project=project, cutoff=cutoff)
        while ids := list(rows.values_list("pk", flat=True)[:chunk_steps]):
            with transaction.atomic():
                chunk = _delete_rows(aged.model, ids)
            deleted.update(chunk)
            progress(chunk.total())
    return deleted


def _run_batches(*, project: Project, cutoff: datetime) -> Iterator[list[tuple]]:
    runs = runs_past(project=project, cutoff=cutoff).order_by("started_at")
    while batch := list(runs.values_list("pk", "started_at")[:RUN_BATCH]):
        yield batch


def _relations(model: type[models.Model]) -> list:
    """The foreign keys of any app that point at `model`."""
    return [r for r in model._meta.related_objects if r.one_to_many or r.one_to_one]


def _pointing(relation, targets) -> models.QuerySet:
    return relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": targets}).order_by()


def _delete_rows(model: type[models.Model], ids: list) -> Counter:
    """Deletes these rows of `model` as Django's `on_delete` says (CASCADE deletes, SET_NULL unlinks),
    without loading them: a chunk of steps is a few statements, not thousands of model instances."""
    deleted = Counter()
    for relation in _relations(model):
        pointing = _pointing(relation, ids)
        if relation.on_delete is models.CASCADE:
            if child_ids := list(pointing.values_list("pk", flat=True)):
                deleted.update(_delete_rows(relation.related_model, child_ids))
        elif relation.on_delete is models.SET_NULL:
            if relation.related_model is model:
                pointing = pointing.exclude(pk__in=ids)  # rows going in this chunk need no update
            pointing.update(**{relation.field.name: None})
        elif relation.on_delete is not models.DO_NOTHING:
            raise NotImplementedError(f"Pruning can't follow {relation} ({relation.on_delete.__name__}).")
    queryset = model._base_manager.filter(pk__in=ids)
    deleted[model._meta.db_table] += queryset._raw_delete(queryset.db)  # relations handled above
    return deleted


def projects_with_retention(*, now: datetime) -> Iterator[tuple[Project, datetime]]:
    """Each project that keeps its runs for a period, with its cutoff."""
    for project in Project.objects.order_by("created_at"):
        if (cutoff := project.retention_cutoff(now)) is not None:
            yield project, cutoff
