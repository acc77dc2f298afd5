"""Reads for the MCP inspector, always scoped to what the caller may see."""

import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import Aggregate, Avg, Count, FloatField, Max, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.mcp.models import LogType, McpLog, McpTool, McpToolVersion
from apps.projects.models import Project

PERIODS = {"24h": (24, "hour"), "7d": (7, "day"), "30d": (30, "day")}
DEFAULT_PERIOD = "7d"
STATS_SAMPLE = 50_000  # latencies read for p95 where the database can't compute it
MOST_USED = 10
RECENT_LOGS = 10
ERROR = Q(log_type=LogType.ERROR)
COUNTS = {"calls": Count("id"), "errors": Count("id", filter=ERROR), "avg": Avg("latency_ms")}


# Tools -------------------------------------------------------------------------------------------


def _with_usage(tools: QuerySet[McpTool]) -> QuerySet[McpTool]:
    """Each tool with `call_count`, `error_count` and `last_called_at`, in the same query."""
    return tools.annotate(
        call_count=Count("logs"),
        error_count=Count("logs", filter=Q(logs__log_type=LogType.ERROR)),
        last_called_at=Max("logs__created_at"),
    )


def tools_for_user(*, user, project_id=None, server_name=None, changed=None) -> QuerySet[McpTool]:
    tools = McpTool.objects.filter(project__organization__memberships__user=user)
    return _filtered_tools(tools, project_id=project_id, server_name=server_name, changed=changed)


def _filtered_tools(tools, *, project_id=None, server_name=None, changed=None) -> QuerySet[McpTool]:
    if project_id is not None:
        tools = tools.filter(project_id=project_id)
    if server_name is not None:
        tools = tools.filter(server_name=server_name)
    if changed is not None:
        tools = tools.filter(version__gt=1) if changed else tools.filter(version__lte=1)
    return _with_usage(tools).order_by("tool_name", "server_name", "id")


def tools_for_project(*, project: Project, **filters) -> QuerySet[McpTool]:
    """The tools tab: each tool with its call and error counts and its changed flag."""
    return _filtered_tools(McpTool.objects.filter(project=project), **filters)


def tool_get(*, user, tool_id) -> McpTool:
    """The user's tool, or 404: another tenant's tool must look like no tool at all."""
    return get_object_or_404(
        _with_usage(McpTool.objects.filter(project__organization__memberships__user=user)), pk=tool_id
    )


def tool_detail(*, user, tool_id, recent: int = RECENT_LOGS) -> McpTool:
    """The user's tool with `version_history` (see `tool_versions`) and its `recent_logs`."""
    tool = tool_get(user=user, tool_id=tool_id)
    tool.version_history = tool_versions(tool=tool)
    tool.recent_logs = list(tool.logs.select_related("tool").order_by("-created_at", "-id")[:recent])
    return tool


def tool_versions(*, tool: McpTool) -> list[McpToolVersion]:
    """Every definition the tool had, newest first, each with `changes` from the one before."""
    versions = list(McpToolVersion.objects.filter(tool=tool).order_by("version"))
    previous = None
    for version in versions:
        version.changes = version.diff_from(previous)
        previous = version
    return versions[::-1]


# Logs --------------------------------------------------------------------------------------------


def logs_for_user(*, user, **filters) -> QuerySet[McpLog]:
    return _filtered_logs(McpLog.objects.filter(project__organization__memberships__user=user), **filters)


def _filtered_logs(
    logs,
    *,
    project_id=None,
    tool_id=None,
    log_type=None,
    run_id=None,
    server_name=None,
    created_after=None,
    created_before=None,
    schema_violation=None,
) -> QuerySet[McpLog]:
    filters = {
        "project_id": project_id,
        "tool_id": tool_id,
        "log_type": log_type,
        "run_id": run_id,
        "server_name": server_name,
        "created_at__gte": created_after,
        "created_at__lt": created_before,
    }
    logs = logs.filter(**{key: value for key, value in filters.items() if value is not None})
    if schema_violation is not None:
        logs = logs.filter(schema_errors__isnull=not schema_violation)
    return logs.select_related("tool").order_by("-created_at", "-id")


def logs_for_project(*, project: Project, **filters) -> QuerySet[McpLog]:
    """The logs tab, newest first, with filters as in `logs_for_user`."""
    return _filtered_logs(McpLog.objects.filter(project=project), **filters)


def log_get(*, user, log_id) -> McpLog:
    return get_object_or_404(
        McpLog.objects.filter(project__organization__memberships__user=user).select_related("tool"), pk=log_id
    )


# Stats -------------------------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL's `percentile_cont`: the value at `fraction` of the ordered values, interpolated."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(ordered: list[int], fraction: float) -> float | None:
    """What `percentile_cont` answers, for values already sorted."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def period_buckets(*, period: str, now: datetime) -> tuple[str, list[datetime]]:
    """(unit, bucket starts): the last N whole hours or days, the current one included."""
    count, unit = PERIODS[period]
    current = now.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        current = current.replace(hour=0)
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    return unit, [current - step * offset for offset in range(count - 1, -1, -1)]


def mcp_stats(*, project: Project, period: str = DEFAULT_PERIOD, now: datetime | None = None) -> dict:
    """The numbers of the stats tab and of GET /api/mcp/stats: calls and errors over time, error
    rate, average and p95 latency by tool, and the most used tools. Four queries."""
    now = timezone.localtime(now or timezone.now())
    unit, buckets = period_buckets(period=period, now=now)
    logs = McpLog.objects.filter(project=project, created_at__gte=buckets[0], created_at__lte=now)
    on_postgres = connections[logs.db].vendor == "postgresql"
    p95 = {"p95": Percentile("latency_ms", 0.95)} if on_postgres else {}
    totals = logs.aggregate(**COUNTS, violations=Count("id", filter=Q(schema_errors__isnull=False)), **p95)
    rows = list(logs.values("tool_id", "tool__tool_name", "tool__server_name").annotate(**COUNTS, **p95).order_by())
    if not on_postgres:
        by_tool_p95, totals["p95"] = _sampled_p95(logs)
        for row in rows:
            row["p95"] = by_tool_p95.get(row["tool_id"])
    tools = sorted((_tool_stats(row) for row in rows), key=lambda t: (-t["calls"], t["tool_name"] or ""))
    return {
        "period": period,
        "bucket": unit,
        "since": buckets[0],
        "until": now,
        "total_calls": totals["calls"],
        "errors": totals["errors"],
        "error_rate": _rate(totals["errors"], totals["calls"]),
        "schema_violations": totals["violations"],
        "avg_latency_ms": _round(totals["avg"]),
        "p95_latency_ms": _round(totals["p95"]),
        "calls_over_time": _calls_over_time(logs, unit=unit, buckets=buckets),
        "tools": tools,
        "most_used": [{key: t[key] for key in ("tool_id", "tool_name", "calls")} for t in tools[:MOST_USED]],
    }


def _calls_over_time(logs: QuerySet[McpLog], *, unit: str, buckets: list[datetime]) -> list[dict]:
    """Calls and errors in every bucket, empty ones included."""
    trunc = TruncHour if unit == "hour" else TruncDay
    counted = (
        logs.annotate(start=trunc("created_at"))
        .values("start")
        .annotate(calls=Count("id"), errors=Count("id", filter=ERROR))
    )
    by_start = {row["start"]: row for row in counted.order_by()}
    empty = {"calls": 0, "errors": 0}
    return [{"start": start, **{k: by_start.get(start, empty)[k] for k in empty}} for start in buckets]


def _sampled_p95(logs: QuerySet[McpLog]) -> tuple[dict, float | None]:
    """(p95 by tool id, p95 overall) over the latest `STATS_SAMPLE` latencies of the period."""
    sample = logs.filter(latency_ms__isnull=False).order_by("-created_at").values_list("tool_id", "latency_ms")
    by_tool: dict = defaultdict(list)
    for tool_id, latency in sample[:STATS_SAMPLE]:
        by_tool[tool_id].append(latency)
    overall = sorted(latency for values in by_tool.values() for latency in values)
    return {tool_id: percentile(sorted(values), 0.95) for tool_id, values in by_tool.items()}, percentile(overall, 0.95)


def _tool_stats(row: dict) -> dict:
    return {
        "tool_id": row["tool_id"],
        "tool_name": row["tool__tool_name"],
        "server_name": row["tool__server_name"],
        "calls": row["calls"],
        "errors": row["errors"],
        "error_rate": _rate(row["errors"], row["calls"]),
        "avg_latency_ms": _round(row["avg"]),
        "p95_latency_ms": _round(row["p95"]),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value) -> float | None:
    return round(float(value), 1) if value is not None else None
