"""The daily rollup of runs: derived data kept right by the write path, read by the dashboard.

A closed UTC day (before today) is summed once per agent (`AgentDay`) the first time the dashboard
needs it; today is counted live. The write path (apps.runs.writes) calls `rollup_days_touch` for
every change to what a closed day sums (a run that started that day created or deleted, or its
status, duration, agent or start changed): that adds one to the day's `RollupDay.version`, and
the day is summed again when next read. Nothing else writes runs, so no caller has to remember it.

Races: a fill locks its days' `RollupDay` rows, sums the runs, and records the version it summed
(`rolled_version`). A write that commits meanwhile bumps the version after the fill (its upsert waits
for the lock), so the day is stale and summed again, never wrongly marked current. A write begun
before midnight commits as yesterday closes: the dashboard counts a day live until `SETTLE` after
its end, so such a write is seen.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from apps.core.sql import row_preparer
from apps.runs.models import AgentDay, ModelDay, RollupDay, Run, RunStatus, RunStep

SETTLE = timedelta(minutes=5)
_DAY = timedelta(days=1)
SUMS = ("runs", "failed", "duration_sum", "duration_count", "cost_sum")


def rollup_key(run: Run) -> tuple:
    """What the rollup sums of a run: its day, agent, whether it failed, its duration and cost."""
    return (
        run.started_at.astimezone(UTC).date(),
        run.agent_name or "",
        run.status == RunStatus.FAILED,
        run.duration_ms,
        run.cost_usd,
    )


def settled_day(now: datetime) -> date:
    """The first day the dashboard still counts live: days before it are read from the rollup."""
    return (now - SETTLE).astimezone(UTC).date()


def rollup_days_touch(*, project_id, days: set[date], now: datetime) -> None:
    """Marks the closed days among `days` stale (one statement; none for today's runs)."""
    today = now.astimezone(UTC).date()
    closed = sorted(day for day in days if day < today)  # in order: two writers lock them alike
    if not closed:
        return
    prepare = row_preparer(RollupDay, ("project_id", "day"), connection.vendor)
    rows = [prepare([project_id, day]) for day in closed]
    table = connection.ops.quote_name(RollupDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (project_id, day, version) VALUES {', '.join(['(%s, %s, 1)'] * len(rows))} "
            f"ON CONFLICT (project_id, day) DO UPDATE SET version = {table}.version + 1",
            [value for row in rows for value in row],
        )


def rollup_rows(*, project_id, first: date, last: date) -> list[dict]:
    """The per-agent sums of the closed days first..last, summing again the days that are stale."""
    current = RollupDay.objects.filter(
        project_id=project_id, day__gte=first, day__lte=last, rolled_version=F("version")
    )
    wanted = {first + n * _DAY for n in range((last - first).days + 1)}
    stale = wanted - set(current.values_list("day", flat=True))
    if stale:
        _fill(project_id=project_id, days=stale)
    fields = ("day", "agent_name", *SUMS)
    return list(AgentDay.objects.filter(project_id=project_id, day__gte=first, day__lte=last).values(*fields))


def rollup_model_rows(*, project_id, first: date, last: date) -> list[dict]:
    """Per-model cost of the closed days first..last (call `rollup_rows` for the same days first: it
    sums the stale ones again, these rows with them)."""
    days = ModelDay.objects.filter(project_id=project_id, day__gte=first, day__lte=last)
    return list(days.values("day", "model", "calls", "cost_sum"))


def steps_cost_by_model(steps):
    """Priced steps grouped by whatever `values()` names, with their count and cost."""
    return steps.filter(cost_usd__isnull=False).annotate(calls=Count("*"), cost_sum=Sum("cost_usd"))


def runs_grouped(runs):
    """Runs grouped by whatever `values()` names, with the sums the rollup keeps."""
    # Failed counts started_at (never null), not id: runs_dashboard_cover_idx holds it, so PostgreSQL
    # answers from the index alone.
    return runs.annotate(
        runs=Count("*"),
        failed=Count("started_at", filter=Q(status=RunStatus.FAILED)),
        duration_sum=Sum("duration_ms", default=0),
        duration_count=Count("duration_ms"),
        cost_sum=Sum("cost_usd", default=0),
    )


@transaction.atomic
def _fill(*, project_id, days: set[date]) -> None:
    RollupDay.objects.bulk_create([RollupDay(project_id=project_id, day=day) for day in days], ignore_conflicts=True)
    markers = RollupDay.objects.select_for_update().filter(project_id=project_id, day__in=days).order_by("day")
    list(markers.values_list("pk", flat=True))  # writers touching these days wait until we commit
    start = datetime.combine(min(days), time.min, tzinfo=UTC)
    runs = Run.objects.filter(project_id=project_id, started_at__gte=start, started_at__lt=_end(max(days)))
    grouped = runs_grouped(runs.annotate(day=TruncDate("started_at", tzinfo=UTC)).values("day", "agent_name"))
    merged: dict[tuple, AgentDay] = {}  # NULL and "" agent names share a row
    for row in grouped.order_by():
        if row["day"] not in days:
            continue
        key = (row["day"], row["agent_name"] or "")
        if key in merged:
            for field in SUMS:
                setattr(merged[key], field, getattr(merged[key], field) + row[field])
        else:
            merged[key] = AgentDay(project_id=project_id, day=key[0], agent_name=key[1], **{f: row[f] for f in SUMS})
    AgentDay.objects.filter(project_id=project_id, day__in=days).delete()
    AgentDay.objects.bulk_create(merged.values())
    _fill_models(project_id=project_id, days=days, start=start, end=_end(max(days)))
    RollupDay.objects.filter(project_id=project_id, day__in=days).update(rolled_version=F("version"))


def _fill_models(*, project_id, days: set[date], start: datetime, end: datetime) -> None:
    # One join to runs (not `run__in` a subquery and a second join for the day): the priced steps
    # come from run_steps_priced_idx.
    steps = RunStep.objects.filter(run__project_id=project_id, run__started_at__gte=start, run__started_at__lt=end)
    steps = steps.annotate(day=TruncDate("run__started_at", tzinfo=UTC))
    merged: dict[tuple, ModelDay] = {}
    for row in steps_cost_by_model(steps.values("day", "model")).order_by():
        if row["day"] not in days:
            continue
        key = (row["day"], row["model"] or "")
        if key in merged:
            merged[key].calls += row["calls"]
            merged[key].cost_sum += row["cost_sum"]
        else:
            merged[key] = ModelDay(
                project_id=project_id, day=key[0], model=key[1], calls=row["calls"], cost_sum=row["cost_sum"]
            )
    ModelDay.objects.filter(project_id=project_id, day__in=days).delete()
    ModelDay.objects.bulk_create(merged.values())


def _end(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC) + _DAY
