"""The dashboard's numbers on a small known data set: the selector, the API and the page agree, and
the daily rollup never lets them drift from the runs table."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from apps.dashboard.selectors import project_stats
from apps.runs.models import AgentDay, RollupDay, Run
from apps.runs.services import run_delete
from apps.testing.models import Test, TestRun

MIDNIGHT = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)


def at(days_ago: int, hour: int = 1) -> datetime:
    """`hour` o'clock (UTC) `days_ago` days before today: safely inside that day whatever the time now."""
    return MIDNIGHT - timedelta(days=days_ago) + timedelta(hours=hour)


def make_run(project, started_at, status="completed", duration_ms=100, agent_name="support-bot") -> Run:
    return Run.objects.create(
        project=project, agent_name=agent_name, status=status, duration_ms=duration_ms, started_at=started_at
    )


@pytest.fixture
def known(project):
    """This week (today and the 6 days before): 4 runs, 2 failed, 100..400 ms; the week before: 2 runs, 1 failed."""
    make_run(project, at(0, 0), duration_ms=100)
    make_run(project, at(1), status="failed", duration_ms=200, agent_name="planner")
    make_run(project, at(3), duration_ms=300)
    make_run(project, at(6), status="failed", duration_ms=400, agent_name="planner")
    make_run(project, at(7), duration_ms=1000)
    make_run(project, at(13), status="failed", duration_ms=None, agent_name="planner")
    make_run(project, at(20))  # outside both weeks
    test = Test.objects.create(project=project, name="t", test_type="custom", config={"expression": "true"})
    for status, when in [("passed", at(1)), ("passed", at(2)), ("failed", at(2)), ("error", at(3)), ("skipped", at(3))]:
        TestRun.objects.create(test=test, status=status, executed_at=when)
    TestRun.objects.create(test=test, status="passed", executed_at=at(8))
    return project


EXPECTED_7D = {"total_runs": 4, "failed_runs": 2, "avg_latency_ms": 250.0, "test_pass_rate": 0.5}


def test_it_computes_exact_numbers_and_deltas(known):
    stats = project_stats(project=known, period="7d")
    assert {key: stats[key] for key in EXPECTED_7D} == EXPECTED_7D
    assert stats["previous"] == {
        "total_runs": 2, "failed_runs": 1, "avg_latency_ms": 1000.0, "test_pass_rate": 1.0, "total_cost_usd": 0,
    }  # fmt: skip
    assert stats["changes"] == {
        "total_runs": 1.0, "failed_runs": 1.0, "avg_latency_ms": -0.75, "test_pass_rate": -0.5, "total_cost_usd": None,
    }  # fmt: skip
    assert stats["test_health"] == {"passed": 2, "failed": 1, "error": 1, "skipped": 1}
    assert [day["runs"] for day in stats["runs_by_day"]] == [1, 0, 0, 1, 0, 1, 1]
    assert [day["failed"] for day in stats["error_rate_by_day"]] == [1, 0, 0, 0, 0, 1, 0]
    assert stats["error_rate_by_day"][-2]["error_rate"] == 1.0
    assert stats["top_agents"]["by_runs"] == [
        {"agent_name": "planner", "runs": 2, "failed": 2, "failure_rate": 1.0, "cost_usd": 0},
        {"agent_name": "support-bot", "runs": 2, "failed": 0, "failure_rate": 0.0, "cost_usd": 0},
    ]
    assert [agent["agent_name"] for agent in stats["top_agents"]["by_failure_rate"]] == ["planner"]


def test_the_30_day_period_counts_the_whole_month(known):
    stats = project_stats(project=known, period="30d")
    assert (stats["total_runs"], stats["failed_runs"], len(stats["runs_by_day"])) == (7, 3, 30)
    assert stats["previous"]["total_runs"] == 0 and stats["changes"]["total_runs"] is None


def test_the_24_hour_period_is_rolling(project):
    now = datetime.now(UTC)
    make_run(project, now - timedelta(hours=2), status="failed")
    make_run(project, now - timedelta(hours=23))
    make_run(project, now - timedelta(hours=30))
    stats = project_stats(project=project, period="24h", now=now)
    assert (stats["total_runs"], stats["failed_runs"], stats["previous"]["total_runs"]) == (2, 1, 1)
    assert sum(day["runs"] for day in stats["error_rate_by_day"]) == 3


def test_the_api_returns_the_numbers_of_the_selector(api, known):
    for period in ("24h", "7d", "30d"):
        body = api.get(f"/api/projects/{known.id}/stats?period={period}").json()
        stats = project_stats(project=known, period=period)
        for key in ("total_runs", "failed_runs", "avg_latency_ms", "test_pass_rate", "changes", "test_health"):
            assert body[key] == stats[key]
    body = api.get(f"/api/projects/{known.id}/stats").json()
    assert {key: body[key] for key in EXPECTED_7D} == EXPECTED_7D
    assert body["period"] == "7d" and body["previous"]["total_runs"] == 2


def test_the_api_refuses_an_unknown_period(api, project):
    response = api.get(f"/api/projects/{project.id}/stats?period=1y")
    assert response.status_code == 400 and "period" in response.json()["errors"]


def test_the_page_shows_the_numbers_of_the_api(client_alice, api, known):
    body = api.get(f"/api/projects/{known.id}/stats").json()
    html = client_alice.get("/dashboard").content.decode()
    values = dict(re.findall(r'data-stat="(\w+)".*?<div class="stat-value[^"]*">([^<]*)</div>', html, re.S))
    assert values == {
        "total_runs": "4", "failed_runs": "2", "avg_latency_ms": "250 ms", "test_pass_rate": "50%", "total_cost_usd": "$0.00",
    }  # fmt: skip
    assert body["total_runs"] == 4
    assert "↑</span> 100%" in html  # failed runs doubled: shown as bad
    assert 'class="delta delta-bad"' in html and 'class="delta delta-good"' in html  # latency down: good
    assert "Passed: 2 (50%)" in html  # donut hover title
    assert "1 run, 1 failed (100% error rate)" in html  # bar hover title


def test_the_period_selector_changes_the_numbers(client_alice, known):
    html = client_alice.get("/dashboard?period=30d").content.decode()
    assert re.search(r'data-stat="total_runs".*?stat-value">7<', html, re.S)
    assert 'href="?period=30d" hx-get="?period=30d" hx-push-url="true"' in html.replace("&amp;", "&")
    partial = client_alice.get("/dashboard?period=24h", headers={"HX-Request": "true", "HX-Target": "dashboard-body"})
    text = partial.content.decode()
    assert 'id="dashboard-body"' in text and "<html" not in text and "last 24 hours" in text


@pytest.mark.parametrize("runs", [0, 1, 25])
def test_it_renders_zero_one_and_many_runs(client_alice, project, runs):
    for n in range(runs):
        make_run(
            project, at(n % 9, hour=n % 20), status="failed" if n % 4 == 0 else "completed", agent_name=f"a{n % 6}"
        )
    html = client_alice.get("/dashboard").content.decode()
    assert ("No runs in the last 7 days" in html) == (runs == 0)
    assert html.count('class="run-row"') == min(runs, 10)
    assert ("chart-col" in html) == bool(runs)
    if runs:
        assert "no test runs" in html  # the donut's empty state


def test_recent_runs_link_to_their_pages(client_alice, project):
    run = make_run(project, at(0, 0), status="paused")
    html = client_alice.get("/dashboard").content.decode()
    assert f'href="/runs/{run.pk}"' in html and "Paused" in html


def test_it_checks_ownership(client_alice, api, project, bob_project):
    make_run(bob_project, at(0, 0), agent_name="bobs-secret-agent")
    assert api.get(f"/api/projects/{bob_project.id}/stats").status_code == 404
    html = client_alice.get(f"/dashboard?project={bob_project.id}").content.decode()
    assert "bobs-secret-agent" not in html and "Bob&#x27;s agents" not in html


def test_it_requires_login(client, anon_api, project):
    assert client.get("/dashboard")["Location"].startswith("/login")
    assert anon_api.get(f"/api/projects/{project.id}/stats").status_code == 401


def test_query_counts_are_pinned(client_alice, api, known, django_assert_num_queries, django_assert_max_num_queries):
    project_stats(project=known, period="30d")  # rolls the closed days up
    # rollup days, rollup rows, live rows, test health now and before, model rollup rows, live model rows
    with django_assert_num_queries(7):
        project_stats(project=known, period="30d")
    with django_assert_max_num_queries(14):
        client_alice.get("/dashboard?period=30d")


class TestRollup:
    def test_closed_days_are_rolled_up_once(self, known):
        project_stats(project=known, period="7d")
        assert RollupDay.objects.filter(project=known).count() == 13
        assert AgentDay.objects.filter(project=known, day=at(1).date()).get().runs == 1

    def test_a_late_run_for_a_closed_day_counts(self, known, ingest):
        project_stats(project=known, period="7d")
        response = ingest.post(
            "/api/ingest/run", {"agent_name": "late", "started_at": at(2).isoformat()}, format="json"
        )
        assert response.status_code == 201
        day = RollupDay.objects.get(project=known, day=at(2).date())
        assert day.version > day.rolled_version
        assert project_stats(project=known, period="7d")["total_runs"] == 5

    def test_a_late_run_in_a_batch_counts(self, known, ingest):
        project_stats(project=known, period="7d")
        event = {"type": "run.create", "body": {"agent_name": "late", "started_at": at(4).isoformat()}}
        assert ingest.post("/api/ingest/batch", {"events": [event]}, format="json").status_code in (200, 207)
        assert project_stats(project=known, period="7d")["total_runs"] == 5

    def test_a_status_change_after_midnight_counts(self, project, ingest):
        run_id = ingest.post("/api/ingest/run", {"agent_name": "a", "started_at": at(1, 23).isoformat()}, format="json")
        run_id = run_id.json()["id"]
        assert project_stats(project=project, period="7d")["failed_runs"] == 0
        response = ingest.post(f"/api/ingest/run/{run_id}/end", {"error": {"message": "boom"}}, format="json")
        assert response.status_code == 200
        stats = project_stats(project=project, period="7d")
        assert (stats["failed_runs"], stats["avg_latency_ms"]) == (1, Run.objects.get().duration_ms)

    def test_a_run_aborted_at_a_breakpoint_after_midnight_counts(self, project, api, ingest):
        run_id = ingest.post("/api/ingest/run", {"agent_name": "a", "started_at": at(1, 23).isoformat()}, format="json")
        run_id = run_id.json()["id"]
        condition = {"condition_type": "step_type", "condition_value": {"step_type": "tool_call"}}
        assert (
            api.post("/api/breakpoints", {"project_id": str(project.pk), **condition}, format="json").status_code == 201
        )
        step = ingest.post(
            f"/api/ingest/run/{run_id}/step", {"step_type": "tool_call", "name": "search"}, format="json"
        )
        assert step.json()["control"]["action"] == "pause"
        assert project_stats(project=project, period="7d")["failed_runs"] == 0
        assert api.post(f"/api/runs/{run_id}/resume", {"action": "abort"}, format="json").status_code == 200
        assert project_stats(project=project, period="7d")["failed_runs"] == 1

    def test_a_deleted_run_stops_counting(self, known):
        project_stats(project=known, period="7d")
        run_delete(run=Run.objects.get(started_at=at(3)))
        assert project_stats(project=known, period="7d")["total_runs"] == 3

    def test_todays_runs_never_touch_the_rollup(self, known, ingest, django_assert_num_queries):
        project_stats(project=known, period="7d")
        ingest.post("/api/ingest/run", {"agent_name": "now"}, format="json")
        assert RollupDay.objects.filter(project=known).count() == 13


@pytest.mark.parametrize("period,bars", [("24h", 24), ("7d", 7), ("30d", 30)])
def test_the_chart_follows_the_period_and_links_each_bar_to_its_runs(client_alice, known, period, bars):
    html = client_alice.get(f"/dashboard?period={period}").content.decode()
    chart = html.split('class="chart chart-bars"', 1)[1].split("</svg>", 1)[0]
    assert chart.count('class="chart-col"') == bars
    assert "Error rate, last 7 days" not in html  # the old title named a rate over counts
    if period == "7d":
        day = at(1).date().isoformat()  # one run, failed: 100% error rate, written over its bar
        assert f'href="/runs?started_after={day}&amp;started_before={day}&amp;status=failed"' in chart
        assert '<text class="chart-note"' in chart and ">100%</text>" in chart


def test_the_24h_chart_counts_by_the_hour(project):
    from apps.dashboard.selectors import runs_chart

    now = MIDNIGHT + timedelta(hours=12, minutes=30)
    make_run(project, now - timedelta(minutes=10), status="failed")
    make_run(project, now - timedelta(hours=3))
    make_run(project, now - timedelta(hours=30))  # before the 24 hours
    hours = runs_chart(project=project, stats={"period": "24h"}, now=now)
    assert len(hours) == 24 and hours[-1]["hour"] == (MIDNIGHT + timedelta(hours=12)).isoformat()
    assert (hours[-1]["runs"], hours[-1]["failed"], hours[-1]["error_rate"]) == (1, 1, 1.0)
    assert hours[-4]["runs"] == 1 and sum(hour["runs"] for hour in hours) == 2
