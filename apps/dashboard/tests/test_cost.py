"""The dashboard's cost figures are a sum over the priced steps: closed days from the rollup, today
counted live, the previous period apart; the stats API carries the same numbers."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from apps.dashboard.selectors import project_stats
from apps.runs.models import RunStep
from apps.runs.services import run_create, run_end, step_create

MIDNIGHT = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)


def at(days_ago: int) -> datetime:
    return MIDNIGHT - timedelta(days=days_ago) + timedelta(hours=1)


def priced_run(project, days_ago, agent, calls):
    """A finished run with LLM calls of (model, input tokens): gpt-4o-mini costs $0.15 per million
    input tokens, gpt-4o $2.50; a model the table doesn't know has no price."""
    run = run_create(project=project, agent_name=agent, started_at=at(days_ago))[0]
    for model, tokens in calls:
        usage = {"input_tokens": tokens}
        metadata = {"model": model, "provider": "openai", "usage": usage}
        step_create(
            run=run, data={"step_type": "llm_call", "metadata": metadata, "output": "ok", "started_at": at(days_ago)}
        )
    run_end(project=project, run_id=run.pk, data={"ended_at": at(days_ago) + timedelta(seconds=1)})
    return run


@pytest.fixture
def costs(project, bob_project):
    priced_run(project, 0, "bot", [("gpt-4o-mini", 1_000_000), ("gpt-4o", 100_000)])  # today: 0.15 + 0.25
    priced_run(project, 2, "bot", [("gpt-4o", 1_000_000)])  # 2.50
    priced_run(project, 5, "helper", [("gpt-4o-mini", 2_000_000), ("acme-private", 9)])  # 0.30, one unpriced
    priced_run(project, 9, "bot", [("gpt-4o", 400_000)])  # previous week: 1.00
    priced_run(bob_project, 1, "bot", [("gpt-4o", 1_000_000)])  # another tenant's
    return project


def step_sum(project, since, until=None):
    steps = RunStep.objects.filter(run__project=project, run__started_at__gte=since, cost_usd__isnull=False)
    if until:
        steps = steps.filter(run__started_at__lt=until)
    return sum((step.cost_usd for step in steps), Decimal(0))


@pytest.mark.django_db
def test_the_cost_figures_are_a_sum_over_the_steps(costs):
    week = MIDNIGHT - timedelta(days=6)
    for _ in range(2):  # the first read rolls the closed days up, the second reads the rollup
        stats = project_stats(project=costs, period="7d")
        assert stats["total_cost_usd"] == step_sum(costs, week) == Decimal("3.20")
        assert stats["previous"]["total_cost_usd"] == step_sum(costs, week - timedelta(days=7), week) == Decimal("1")
        assert stats["changes"]["total_cost_usd"] == 2.2
        by_day = {day["date"]: day["cost_usd"] for day in stats["cost_by_day"]}
        assert sum(by_day.values()) == stats["total_cost_usd"]
        assert by_day[at(0).date().isoformat()] == Decimal("0.40") and by_day[at(2).date().isoformat()] == Decimal(
            "2.5"
        )
        today = next(day for day in stats["cost_by_day"] if day["date"] == at(0).date().isoformat())
        assert {part["model"]: part["cost_usd"] for part in today["models"]} == {
            "gpt-4o": Decimal("0.25"),
            "gpt-4o-mini": Decimal("0.15"),
        }
        assert [(m["model"], m["calls"], m["cost_usd"]) for m in stats["top_models"]] == [
            ("gpt-4o", 2, Decimal("2.75")),
            ("gpt-4o-mini", 2, Decimal("0.45")),
        ]
        assert [(a["agent_name"], a["cost_usd"]) for a in stats["top_agents"]["by_cost"]] == [
            ("bot", Decimal("2.90")),
            ("helper", Decimal("0.30")),
        ]


@pytest.mark.django_db
def test_the_stats_api_and_the_page_show_them(costs, api, client_alice):
    body = api.get(f"/api/projects/{costs.pk}/stats?period=7d").json()
    assert Decimal(body["total_cost_usd"]) == Decimal("3.20")
    assert Decimal(body["previous"]["total_cost_usd"]) == 1 and body["changes"]["total_cost_usd"] == 2.2
    assert body["top_models"][0]["model"] == "gpt-4o"
    page = client_alice.get("/dashboard?period=7d").content.decode()
    assert "$3.20" in page and 'class="chart chart-bars chart-cost"' in page


@pytest.mark.django_db
def test_the_runs_list_filters_and_shows_cost(costs, api, client_alice):
    rows = api.get(f"/api/runs?project_id={costs.pk}&cost_min=0.4&cost_max=2.5").json()["results"]
    assert sorted(Decimal(row["cost_usd"]) for row in rows) == [Decimal("0.4"), Decimal("1"), Decimal("2.5")]
    for row in api.get(f"/api/runs?project_id={costs.pk}").json()["results"]:
        assert Decimal(row["cost_usd"]) == step_sum(
            costs,
            datetime.fromisoformat(row["started_at"]),
            datetime.fromisoformat(row["started_at"]) + timedelta(seconds=1),
        )
    bad = api.get(f"/api/runs?project_id={costs.pk}&cost_min=2&cost_max=1")
    assert bad.status_code == 400 and "cost_max" in bad.json()["errors"]
    page = client_alice.get("/runs?cost_min=2").content.decode()
    assert "$2.50" in page and "$0.40" not in page
