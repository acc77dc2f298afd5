"""The runs list's filters, alone and combined, through the API and the page, paged by cursor."""

from datetime import timedelta

import pytest

from apps.runs.tests.conftest import T0

pytestmark = pytest.mark.django_db


def all_ids(api, query: dict) -> set[str]:
    """Every run the filters keep, followed page by page (page_size 2) through `next`."""
    response = api.get("/api/runs", {**query, "page_size": 2})
    assert response.status_code == 200, response.content
    body, seen = response.json(), []
    while True:
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            return set(seen)
        body = api.get(body["next"]).json()


@pytest.fixture
def runs(make_run):
    """Six runs that differ in what each filter reads."""

    def tool(name):
        return {"step_type": "tool_call", "name": name, "input": {"q": 1}, "output": {"ok": True}}

    def llm(model, tokens=10):
        return {
            "step_type": "llm_call",
            "name": "chat",
            "metadata": {"model": model},
            "tokens_used": tokens,
            "output": "x",
        }

    failing = {"step_type": "tool_call", "name": "get_weather", "error": {"message": "timeout"}}
    made = {
        "weather_ok": make_run(steps=[llm("gpt-4o"), tool("get_weather")], metadata={"env": "prod"}, session_id="s-1"),
        "weather_fail": make_run(steps=[llm("gpt-4o", 500), failing], metadata={"env": "prod"}, session_id="s-1"),
        "search": make_run(
            steps=[llm("claude-3", 200), tool("web_search")], metadata={"env": "staging"}, user_id="u-1"
        ),
        "chat_only": make_run(steps=[llm("claude-3", 40)], metadata={"env": "prod", "tier": 2}, user_id="u-1"),
        "empty": make_run(steps=[]),
        "slow": make_run(steps=[tool("get_weather")], started_at=T0 - timedelta(days=1)),
    }
    return {name: str(run.pk) for name, run in made.items()}


def names(runs: dict, ids: set[str]) -> set[str]:
    return {name for name, pk in runs.items() if pk in ids}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"has_error": "true"}, {"weather_fail"}),
        ({"has_error": "false"}, {"weather_ok", "search", "chat_only", "empty", "slow"}),
        ({"tool": "get_weather"}, {"weather_ok", "weather_fail", "slow"}),
        ({"tool": "web_search"}, {"search"}),
        ({"tool": "nothing"}, set()),
        ({"model": "gpt-4o"}, {"weather_ok", "weather_fail"}),
        ({"model": "claude-3"}, {"search", "chat_only"}),
        ({"metadata": "env=prod"}, {"weather_ok", "weather_fail", "chat_only"}),
        ({"metadata": "env=staging"}, {"search"}),
        ({"session_id": "s-1"}, {"weather_ok", "weather_fail"}),
        ({"user_id": "u-1"}, {"search", "chat_only"}),
        ({"tokens_min": "200"}, {"weather_fail", "search"}),
        ({"tokens_max": "40"}, {"weather_ok", "chat_only", "empty", "slow"}),
        ({"tokens_min": "40", "tokens_max": "200"}, {"search", "chat_only"}),
        (
            {"latency_min": "3000", "latency_max": "3000"},
            {"weather_ok", "weather_fail", "search", "chat_only", "empty", "slow"},
        ),
        ({"latency_min": "3001"}, set()),
        ({"started_before": (T0 - timedelta(hours=1)).isoformat()}, {"slow"}),
        # combined
        ({"tool": "get_weather", "has_error": "false"}, {"weather_ok", "slow"}),
        ({"model": "gpt-4o", "metadata": "env=prod", "tokens_min": "100"}, {"weather_fail"}),
        ({"user_id": "u-1", "model": "claude-3", "metadata": "env=prod"}, {"chat_only"}),
        ({"session_id": "s-1", "tool": "get_weather", "has_error": "true", "status": "completed"}, {"weather_fail"}),
        ({"q": "timeout", "tool": "get_weather"}, {"weather_fail"}),
    ],
)
def test_each_filter_alone_and_combined(api, client_alice, runs, query, expected):
    assert names(runs, all_ids(api, query)) == expected
    html = client_alice.get("/runs", query).content.decode()
    assert {name for name, pk in runs.items() if f'id="run-{pk}"' in html} == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tokens_min": "-1"}, "tokens_min"),
        ({"tokens_min": "5", "tokens_max": "4"}, "tokens_max"),
        ({"latency_max": "soon"}, "latency_max"),
        ({"metadata": "no-equals-sign"}, "metadata"),
        ({"has_error": "maybe"}, "has_error"),
        ({"failed_test": "not-a-test"}, "failed_test"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(api, runs, query, field):
    response = api.get("/api/runs", query)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_filters_never_show_another_tenants_runs(api, runs, bob_project, make_run):
    theirs = make_run(project=bob_project, session_id="s-1", metadata={"env": "prod"})
    assert str(theirs.pk) not in all_ids(api, {"session_id": "s-1"}) | all_ids(api, {"metadata": "env=prod"})
