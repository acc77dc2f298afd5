"""The dashboard's numbers, for the page and for GET /api/projects/{id}/stats alike.

Periods: `24h` is the last 24 hours against the 24 before; `7d` and `30d` are whole UTC days (today
and the 6 or 29 days before it) against as many days before them, so the bars of a chart add up to
its totals. Closed days come from the daily rollup (apps.runs.rollup, kept right by the runs' write
path), summed the first time they are needed; the rest (today, or the last 48 hours for `24h`) is
counted live, in one grouped query. A million runs cost a few hundred rollup rows and one day of
live rows.
"""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from apps.projects.models import Project
from apps.runs.models import Run, RunStatus, RunStep
from apps.runs.rollup import rollup_model_rows, rollup_rows, runs_grouped, settled_day, steps_cost_by_model
from apps.testing.selectors import test_health

PERIODS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
DEFAULT_PERIOD = "7d"
CHART_DAYS = 7
TOP_AGENTS = 5
TOP_MODELS = 5  # models drawn apart in the cost chart; the rest are "other models"
ZERO = Decimal(0)
_DAY = timedelta(days=1)


def period_bounds(*, period: str, now: datetime) -> tuple[datetime, datetime]:
    """(since, previous_since): the period is [since, now], the one it is compared with [previous_since, since)."""
    if period == "24h":
        return now - timedelta(hours=24), now - timedelta(hours=48)
    days = int(period.removesuffix("d"))
    since = _midnight(now) - (days - 1) * _DAY
    return since, since - days * _DAY


def project_stats(*, project: Project, period: str = DEFAULT_PERIOD, now: datetime | None = None) -> dict:
    now = (now or timezone.now()).astimezone(UTC)
    since, previous_since = period_bounds(period=period, now=now)
    today, settled = now.date(), settled_day(now)
    chart_first = today - (CHART_DAYS - 1) * _DAY
    live_from = min(previous_since, _day_start(settled)) if period == "24h" else _day_start(settled)
    rows = _live_rows(project=project, start=live_from, since=since, end=_midnight(now) + _DAY)
    closed_first = min(chart_first, previous_since.date())
    rolled = rollup_rows(project_id=project.pk, first=closed_first, last=settled - _DAY)
    for row in rolled:
        if period != "24h" and row["day"] >= since.date():
            row["bucket"] = "current"
        elif period != "24h" and row["day"] >= previous_since.date():
            row["bucket"] = "previous"
    current = _totals(row for row in rolled + rows if row.get("bucket") == "current")
    previous = _totals(row for row in rolled + rows if row.get("bucket") == "previous")
    health = test_health(project=project, since=since)
    previous_health = test_health(project=project, since=previous_since, until=since - timedelta(microseconds=1))
    current["test_pass_rate"], previous["test_pass_rate"] = health["pass_rate"], previous_health["pass_rate"]
    agents = _agents(row for row in rolled + rows if row.get("bucket") == "current")
    models = _model_rows(
        project=project,
        rolled_first=closed_first,
        settled=settled,
        live_from=live_from,
        since=since,
        end=_midnight(now) + _DAY,
        period=period,
    )
    current_models = [row for row in models if row.get("bucket") == "current"]
    # The chart's closed days come from the rollup, the rest from the live rows (which, for 24h, also
    # hold parts of earlier days: those count in the period's totals, not twice in the chart).
    chart_rows = [*rolled, *(row for row in rows if row["day"] >= settled)]
    first_day = since.date()
    return {
        **current,
        "runs_by_day": _days(
            _per_day(row for row in rolled + rows if row.get("bucket") == "current"), first_day, today
        ),
        "period": period,
        "since": since,
        "until": now,
        "previous": previous,
        "changes": _changes(current, previous),
        "test_health": {key: health[key] for key in ("passed", "failed", "error", "skipped")},
        "error_rate_by_day": _days(_per_day(chart_rows), chart_first, today, rate=True),
        "top_agents": {
            "by_runs": sorted(agents, key=lambda a: (-a["runs"], a["agent_name"]))[:TOP_AGENTS],
            "by_failure_rate": sorted(
                (a for a in agents if a["failed"]), key=lambda a: (-a["failure_rate"], -a["runs"], a["agent_name"])
            )[:TOP_AGENTS],
            "by_cost": sorted((a for a in agents if a["cost_usd"]), key=lambda a: (-a["cost_usd"], a["agent_name"]))[
                :TOP_AGENTS
            ],
        },
        "top_models": _top_models(current_models),
        "cost_by_day": _cost_days(current_models, first_day, today),
    }


def runs_chart(*, project: Project, stats: dict, now: datetime | None = None) -> list[dict]:
    """The bars of the period `stats` covers: its days, or for `24h` its 24 hours (the current one
    last), each with runs, failed and the error rate."""
    if stats["period"] != "24h":
        return [{**day, "error_rate": _rate(day["failed"], day["runs"])} for day in stats["runs_by_day"]]
    now = (now or timezone.now()).astimezone(UTC)
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    runs = Run.objects.filter(project=project, started_at__gte=first).annotate(hour=TruncHour("started_at", tzinfo=UTC))
    counted = runs.values("hour").annotate(
        runs=Count("*"), failed=Count("started_at", filter=Q(status=RunStatus.FAILED))
    )
    by_hour = {row["hour"]: (row["runs"], row["failed"]) for row in counted.order_by()}
    hours = (first + timedelta(hours=n) for n in range(24))
    return [
        {"hour": hour.isoformat(), "runs": total, "failed": failed, "error_rate": _rate(failed, total)}
        for hour in hours
        for total, failed in [by_hour.get(hour, (0, 0))]
    ]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def runs_recent(*, project: Project, limit: int = 10) -> list[Run]:
    fields = ("id", "agent_name", "external_id", "status", "started_at", "duration_ms", "step_count", "error_count")
    return list(Run.objects.filter(project=project).only(*fields).order_by("-started_at", "-id")[:limit])


# Reading: live rows and rollup rows have one shape: day, agent_name, runs, failed, duration sum and count


def _midnight(moment: datetime) -> datetime:
    return _day_start(moment.astimezone(UTC).date())


def _day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _live_rows(*, project: Project, start: datetime, since: datetime, end: datetime) -> list[dict]:
    runs = Run.objects.filter(project=project, started_at__gte=start, started_at__lt=end)
    current = Case(When(started_at__gte=since, then=Value(True)), default=Value(False), output_field=BooleanField())
    runs = runs.annotate(day=TruncDate("started_at", tzinfo=UTC), current=current).values(
        "day", "agent_name", "current"
    )
    rows = list(runs_grouped(runs).order_by())
    for row in rows:
        row["bucket"] = "current" if row.pop("current") else "previous"
        row["agent_name"] = row["agent_name"] or ""
    return rows


# Summing up ------------------------------------------------------------------------------------


def _totals(rows) -> dict:
    runs = failed = duration_sum = duration_count = 0
    cost = ZERO
    for row in rows:
        runs += row["runs"]
        failed += row["failed"]
        duration_sum += row["duration_sum"]
        duration_count += row["duration_count"]
        cost += row["cost_sum"] or ZERO
    avg = round(duration_sum / duration_count, 1) if duration_count else None
    return {"total_runs": runs, "failed_runs": failed, "avg_latency_ms": avg, "total_cost_usd": cost}


def _change(current, previous) -> float | None:
    if current is None or not previous:
        return None
    return round(float((current - previous) / previous), 4)


def _changes(current: dict, previous: dict) -> dict:
    """Relative change of each number against the previous period; the pass rate's in points."""
    keys = ("total_runs", "failed_runs", "avg_latency_ms", "total_cost_usd")
    changes = {key: _change(current[key], previous[key]) for key in keys}
    rates = current["test_pass_rate"], previous["test_pass_rate"]
    changes["test_pass_rate"] = None if None in rates else round(rates[0] - rates[1], 4)
    return changes


def _per_day(rows) -> dict:
    days = defaultdict(lambda: [0, 0])
    for row in rows:
        days[row["day"]][0] += row["runs"]
        days[row["day"]][1] += row["failed"]
    return days


def _days(by_day: dict, first, last, rate: bool = False) -> list[dict]:
    out = []
    for n in range((last - first).days + 1):
        day = first + n * _DAY
        runs, failed = by_day.get(day, (0, 0))
        row = {"date": day.isoformat(), "runs": runs, "failed": failed}
        if rate:
            row["error_rate"] = round(failed / runs, 4) if runs else None
        out.append(row)
    return out


def _agents(rows) -> list[dict]:
    agents = defaultdict(lambda: {"runs": 0, "failed": 0, "cost": ZERO})
    for row in rows:
        agents[row["agent_name"]]["runs"] += row["runs"]
        agents[row["agent_name"]]["failed"] += row["failed"]
        agents[row["agent_name"]]["cost"] += row["cost_sum"] or ZERO
    return [
        {
            "agent_name": name,
            "runs": a["runs"],
            "failed": a["failed"],
            "failure_rate": round(a["failed"] / a["runs"], 4),
            "cost_usd": a["cost"],
        }
        for name, a in agents.items()
        if a["runs"]
    ]


# Cost by model: priced steps, by the day their run started (closed days from the rollup) ---------


def _model_rows(*, project, rolled_first, settled, live_from, since, end, period) -> list[dict]:
    """Rows of day, model, calls, cost_sum and bucket (current or previous), like the runs' rows."""
    rolled = rollup_model_rows(project_id=project.pk, first=rolled_first, last=settled - _DAY)
    for row in rolled:
        if period != "24h" and row["day"] >= since.date():
            row["bucket"] = "current"
        elif period != "24h":
            row["bucket"] = "previous"
    steps = RunStep.objects.filter(run__project=project, run__started_at__gte=live_from, run__started_at__lt=end)
    current = Case(
        When(run__started_at__gte=since, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    steps = steps.annotate(day=TruncDate("run__started_at", tzinfo=UTC), current=current)
    live = list(steps_cost_by_model(steps.values("day", "model", "current")).order_by())
    for row in live:
        row["bucket"] = "current" if row.pop("current") else "previous"
        row["model"] = row["model"] or ""
    return [*rolled, *live]


def _top_models(rows: list[dict]) -> list[dict]:
    models = defaultdict(lambda: [0, ZERO])
    for row in rows:
        models[row["model"]][0] += row["calls"]
        models[row["model"]][1] += row["cost_sum"]
    ranked = sorted(models.items(), key=lambda item: (-item[1][1], item[0]))
    return [{"model": name, "calls": calls, "cost_usd": cost} for name, (calls, cost) in ranked[:TOP_MODELS]]


def _cost_days(rows: list[dict], first, last) -> list[dict]:
    """Each day of the period with its cost by model: the top models by name, the rest as "other"."""
    top = [model["model"] for model in _top_models(rows)]
    days = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in rows:
        days[row["day"]][row["model"] if row["model"] in top else "other"] += row["cost_sum"]
    out = []
    for n in range((last - first).days + 1):
        day = first + n * _DAY
        by_model = days.get(day, {})
        out.append(
            {
                "date": day.isoformat(),
                "cost_usd": sum(by_model.values(), ZERO),
                "models": [
                    {"model": name, "cost_usd": by_model[name]} for name in [*top, "other"] if by_model.get(name)
                ],
            }
        )
    return out
