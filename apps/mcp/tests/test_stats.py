"""The inspector's numbers on a data set worked out by hand (the same on PostgreSQL and SQLite)."""

import datetime as dt

import pytest

from apps.mcp.models import McpLog, McpTool
from apps.mcp.selectors import mcp_stats, percentile

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 10, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def data_set(project, bob_project):
    search = McpTool.objects.create(project=project, tool_name="search", server_name="docs")
    fetch = McpTool.objects.create(project=project, tool_name="fetch", server_name="web")
    ping = McpTool.objects.create(project=project, tool_name="ping", server_name="web")
    bobs = McpTool.objects.create(project=bob_project, tool_name="search")

    def log(tool, latency, at, log_type="response", **fields):
        return McpLog(project=tool.project, tool=tool, latency_ms=latency, created_at=at, log_type=log_type, **fields)

    logs = [log(search, ms, NOW - dt.timedelta(hours=5)) for ms in (10, 20, 30, 40, 50, 60)]
    logs += [log(search, ms, NOW - dt.timedelta(hours=1)) for ms in (70, 80)]
    logs += [log(search, ms, NOW - dt.timedelta(minutes=61), "error") for ms in (90, 100)]
    logs[0].schema_errors = [{"path": "query", "message": "required", "validator": "required"}]
    logs += [log(fetch, 200, NOW - dt.timedelta(minutes=20)), log(fetch, 400, NOW - dt.timedelta(minutes=5), "error")]
    logs += [log(ping, None, NOW - dt.timedelta(minutes=30), "call")]
    logs += [log(search, 1000, NOW - dt.timedelta(days=2))]  # outside 24h, inside 7d
    logs += [log(search, 5, NOW + dt.timedelta(minutes=1))]  # after `now`: not counted
    logs += [log(bobs, 1, NOW - dt.timedelta(minutes=1), "error")]  # another project's
    McpLog.objects.bulk_create(logs)
    return search, fetch, ping


def test_it_counts_a_day_by_hour(project, data_set):
    search, fetch, ping = data_set
    stats = mcp_stats(project=project, period="24h", now=NOW)
    assert (stats["bucket"], stats["since"], stats["until"]) == (
        "hour",
        dt.datetime(2026, 5, 9, 16, tzinfo=dt.UTC),
        NOW,
    )
    assert (stats["total_calls"], stats["errors"], stats["error_rate"], stats["schema_violations"]) == (
        13,
        3,
        0.2308,
        1,
    )
    assert (stats["avg_latency_ms"], stats["p95_latency_ms"]) == (95.8, 290.0)  # 1150 / 12; 200 + 0.45 * 200
    buckets = {b["start"]: (b["calls"], b["errors"]) for b in stats["calls_over_time"] if b["calls"]}
    assert len(stats["calls_over_time"]) == 24
    assert stats["calls_over_time"][-1]["start"] == dt.datetime(2026, 5, 10, 15, tzinfo=dt.UTC)
    assert buckets == {
        dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC): (6, 0),
        dt.datetime(2026, 5, 10, 14, tzinfo=dt.UTC): (4, 2),
        dt.datetime(2026, 5, 10, 15, tzinfo=dt.UTC): (3, 1),
    }
    assert stats["tools"] == [
        {
            "tool_id": search.id,
            "tool_name": "search",
            "server_name": "docs",
            "calls": 10,
            "errors": 2,
            "error_rate": 0.2,
            "avg_latency_ms": 55.0,
            "p95_latency_ms": 95.5,  # 90 + 0.55 * 10
        },
        {
            "tool_id": fetch.id,
            "tool_name": "fetch",
            "server_name": "web",
            "calls": 2,
            "errors": 1,
            "error_rate": 0.5,
            "avg_latency_ms": 300.0,
            "p95_latency_ms": 390.0,
        },
        {
            "tool_id": ping.id,
            "tool_name": "ping",
            "server_name": "web",
            "calls": 1,
            "errors": 0,
            "error_rate": 0.0,
            "avg_latency_ms": None,
            "p95_latency_ms": None,
        },
    ]
    assert [(t["tool_name"], t["calls"]) for t in stats["most_used"]] == [("search", 10), ("fetch", 2), ("ping", 1)]


def test_it_counts_a_week_by_day(project, data_set):
    stats = mcp_stats(project=project, period="7d", now=NOW)
    assert (stats["bucket"], stats["since"], stats["total_calls"]) == (
        "day",
        dt.datetime(2026, 5, 4, tzinfo=dt.UTC),
        14,
    )
    assert [(b["start"].day, b["calls"], b["errors"]) for b in stats["calls_over_time"]] == [
        (4, 0, 0),
        (5, 0, 0),
        (6, 0, 0),
        (7, 0, 0),
        (8, 1, 0),
        (9, 0, 0),
        (10, 13, 3),
    ]
    assert stats["tools"][0]["p95_latency_ms"] == 550.0  # 11 values: 100 + 0.5 * (1000 - 100)
    assert len(mcp_stats(project=project, period="30d", now=NOW)["calls_over_time"]) == 30


def test_an_empty_project_has_zeroes_and_no_latency(project):
    stats = mcp_stats(project=project, period="24h", now=NOW)
    assert (stats["total_calls"], stats["error_rate"], stats["p95_latency_ms"], stats["tools"]) == (0, None, None, [])
    assert {b["calls"] for b in stats["calls_over_time"]} == {0}


def test_logs_of_a_deleted_tool_still_count(project, data_set):
    data_set[1].delete()
    tools = mcp_stats(project=project, period="24h", now=NOW)["tools"]
    assert (tools[1]["tool_id"], tools[1]["tool_name"], tools[1]["calls"]) == (None, None, 2)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([7], 7), ([1, 2], 1.95), (list(range(1, 101)), 95.05), ([5, 5, 5], 5)],
)
def test_percentile_interpolates_like_percentile_cont(values, expected):
    assert percentile(values, 0.95) == pytest.approx(expected)


def test_the_stats_take_a_fixed_number_of_queries(project, data_set, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # totals, by tool, by bucket (and the p95 sample on SQLite)
        mcp_stats(project=project, period="30d", now=NOW)
