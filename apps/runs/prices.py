"""Custom prices of a project (writes and reads) and repricing stored steps after a price change.

Both the Settings tab and `/api/projects/{id}/prices` call these, so the page and the API agree.
A save forgets this worker's copy of the project's prices at once; other workers pick the change
up within `PRICES_TTL` seconds (apps.runs.pricing), and `costs_recompute` reprices what was stored.
"""

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.projects.models import Project
from apps.runs.events import step_unpriced
from apps.runs.models import CustomPrice, Run, RunStep
from apps.runs.pricing import custom_of, custom_prices_forget, step_cost
from apps.runs.rollup import rollup_days_touch, rollup_key

PRICE_FIELDS = (
    "model", "match", "input_per_million", "output_per_million", "cache_read_per_million",
    "cache_write_per_million", "reasoning_per_million",
)  # fmt: skip
CHUNK = 500  # runs repriced per transaction


def custom_prices_for_project(*, project: Project) -> QuerySet[CustomPrice]:
    return CustomPrice.objects.filter(project=project).order_by("model", "match")


def custom_price_get(*, project: Project, price_id: UUID) -> CustomPrice:
    try:
        return CustomPrice.objects.get(project=project, pk=price_id)
    except CustomPrice.DoesNotExist:
        raise ApplicationError("Not found.", status=404) from None


def custom_price_create(*, project: Project, data: dict) -> CustomPrice:
    price = CustomPrice(project=project, **{name: data.get(name) for name in PRICE_FIELDS if name in data})
    return _saved(price)


def custom_price_update(*, price: CustomPrice, data: dict) -> CustomPrice:
    for name in PRICE_FIELDS:
        if name in data:
            setattr(price, name, data[name])
    return _saved(price)


def custom_price_delete(*, price: CustomPrice) -> None:
    price.delete()
    custom_prices_forget(price.project_id)


def _saved(price: CustomPrice) -> CustomPrice:
    try:
        with transaction.atomic():
            price.save()
    except IntegrityError:
        message = f"This project already has a price for {price.model!r} ({price.match})."
        raise ApplicationError(message, errors={"model": [message]}) from None
    custom_prices_forget(price.project_id)
    return price


# Repricing stored steps ---------------------------------------------------------------------------


def costs_recompute(
    *, project: Project, since: datetime, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Reprices the LLM steps of the project's runs that started at `since` or later, with today's
    custom prices and table, a chunk of runs per transaction (each run locked while its totals
    change). A reported cost stays as it is. Counts: runs, steps looked at, steps whose cost changed."""
    customs = [custom_of(price) for price in CustomPrice.objects.filter(project=project)]
    custom_prices_forget(project.pk)
    runs = Run.objects.filter(project=project, started_at__gte=since).order_by("started_at", "id")
    total = runs.count()
    counts = {"runs": 0, "steps": 0, "changed": 0}
    if progress is not None:
        progress(0, total)
    for chunk in _chunks(runs.values_list("id", flat=True).iterator(chunk_size=CHUNK)):
        with transaction.atomic():
            days = set()
            for run in Run.objects.select_for_update().filter(pk__in=chunk).order_by("id"):
                before = rollup_key(run)
                steps, changed = _run_reprice(run, customs)
                counts["steps"] += steps
                counts["changed"] += changed
                if before != (after := rollup_key(run)):
                    days.update((before[0], after[0]))
            rollup_days_touch(project_id=project.pk, days=days, now=timezone.now())
        counts["runs"] += len(chunk)
        if progress is not None:
            progress(counts["runs"], total)
    return counts


def _run_reprice(run: Run, customs) -> tuple[int, int]:
    """Reprices the run's priceable steps and sets its totals from all its steps; (looked at, changed)."""
    looked, changed = 0, []
    fields = ("id", "step_type", "metadata", "started_at", "created_at", "status", "model", "cost_usd", "cost_details")
    cost, unpriced = None, 0
    for row in RunStep.objects.filter(run=run).values(*fields).order_by():
        if row["metadata"] and ("model" in row["metadata"] or "cost_usd" in row["metadata"]):
            looked += 1
            model, new_cost, details = step_cost(
                step_type=row["step_type"],
                metadata=row["metadata"],
                at=row["started_at"] or row["created_at"],
                custom=customs,
            )
            if (model, new_cost, details) != (row["model"], row["cost_usd"], row["cost_details"]):
                row.update(model=model, cost_usd=new_cost, cost_details=details)
                changed.append(row)
        if row["cost_usd"] is not None:
            cost = row["cost_usd"] if cost is None else cost + row["cost_usd"]
        unpriced += int(step_unpriced(row))
    for row in changed:
        RunStep.objects.filter(pk=row["id"]).update(
            model=row["model"], cost_usd=row["cost_usd"], cost_details=row["cost_details"]
        )
    cost = None if cost is None else Decimal(cost)
    if (cost, unpriced) != (run.cost_usd, run.unpriced_steps):
        run.cost_usd, run.unpriced_steps = cost, unpriced
        Run.objects.filter(pk=run.pk).update(cost_usd=cost, unpriced_steps=unpriced)
    return looked, len(changed)


def _chunks(ids: Iterator) -> Iterator[list]:
    chunk = []
    for run_id in ids:
        chunk.append(run_id)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
