"""/api/runs: it works, it requires a login, it checks ownership; filters and cursor pagination."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.urls import reverse

from apps.runs.models import Run, RunStep
from apps.runs.tests.conftest import T0

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def test_it_lists_the_runs_newest_first_with_their_counters(api, traced_run, make_run):
    older = make_run(agent_name="older", started_at=T0 - timedelta(minutes=5))
    response = api.get("/api/runs")
    assert response.status_code == 200
    body = response.json()
    assert ids(response) == [str(traced_run.pk), str(older.pk)]
    row = body["results"][0]
    assert row["agent_name"] == "research-assistant"
    assert row["step_count"] == 5 and row["error_count"] == 1 and row["total_tokens"] == 46
    assert row["duration_ms"] == 2000 and row["status"] == "completed"
    assert "input" not in row  # list rows stay light
    assert body["next"] is None and body["previous"] is None


def test_it_requires_a_login(anon_api):
    assert anon_api.get("/api/runs").status_code == 401


def test_it_serves_the_session_too(client_alice, traced_run):
    assert client_alice.get("/api/runs/").json()["results"][0]["id"] == str(traced_run.pk)


def test_it_shows_only_the_callers_runs(api, traced_run, make_run, bob_project):
    make_run(project=bob_project, agent_name="bobs-bot")
    assert ids(api.get("/api/runs")) == [str(traced_run.pk)]


def test_project_id_must_be_one_of_the_callers_projects(api, project, bob_project, traced_run):
    assert ids(api.get(f"/api/runs?project_id={project.pk}")) == [str(traced_run.pk)]
    response = api.get(f"/api/runs?project_id={bob_project.pk}")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}


def test_it_filters_by_status_agent_and_time(api, make_run):
    failed = make_run(agent_name="sql-agent", error={"message": "boom"}, started_at=T0 - timedelta(days=2))
    done = make_run(agent_name="sql-agent", started_at=T0 - timedelta(days=1))
    other = make_run(agent_name="triage", started_at=T0)
    live = make_run(agent_name="triage", end=False, started_at=T0 + timedelta(minutes=1))
    assert ids(api.get("/api/runs?status=failed")) == [str(failed.pk)]
    assert ids(api.get("/api/runs?status=running")) == [str(live.pk)]
    assert ids(api.get("/api/runs?agent_name=sql-agent")) == [str(done.pk), str(failed.pk)]
    day = (T0 - timedelta(days=1)).date().isoformat()
    assert ids(api.get(f"/api/runs?started_after={day}&started_before={day}")) == [str(done.pk)]
    after = (T0 - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert ids(api.get(f"/api/runs?started_after={after}")) == [str(live.pk), str(other.pk)]
    assert ids(api.get("/api/runs?agent_name=triage&status=completed")) == [str(other.pk)]


def test_a_time_offset_survives_a_url_that_decoded_its_plus(api, make_run):
    run = make_run(started_at=T0)
    moment = (T0 - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert ids(api.get(f"/api/runs?started_after={moment}+00:00")) == [str(run.pk)]
    assert ids(api.get(f"/api/runs?started_after={moment}+01:00")) == [str(run.pk)]
    assert ids(api.get(f"/api/runs?started_after={moment}-01:00")) == []


def test_q_matches_run_id_external_id_prefix_and_agent_name(api, make_run):
    by_external = make_run(agent_name="triage", external_id="ticket-4411")
    by_agent = make_run(agent_name="Support-Bot", started_at=T0 - timedelta(minutes=1))
    make_run(agent_name="other", external_id="x-ticket-4411", started_at=T0 - timedelta(minutes=2))
    assert ids(api.get("/api/runs?q=ticket-44")) == [str(by_external.pk)]
    assert ids(api.get("/api/runs?q=support")) == [str(by_agent.pk)]
    assert ids(api.get(f"/api/runs?q={by_agent.pk}")) == [str(by_agent.pk)]
    assert ids(api.get("/api/runs?q=nothing-like-it")) == []


@pytest.mark.parametrize(
    "query,field",
    [
        ("started_after=yesterday", "started_after"),
        ("started_before=2026-02-30", "started_before"),
        ("started_after=2026-03-02&started_before=2026-03-01", "started_before"),
        ("status=sleeping", "status"),
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
        ("project_id=42", "project_id"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(api, query, field):
    response = api.get(f"/api/runs?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    assert body["detail"].startswith(field)


def test_it_pages_by_cursor_without_losing_or_repeating_a_run(api, make_run):
    # Ties on started_at are ordered by id, so a page boundary inside a tie loses nothing.
    runs = [make_run(agent_name=f"a{i}", started_at=T0 - timedelta(seconds=i // 2), end=False) for i in range(7)]
    expected = [str(run.pk) for run in sorted(runs, key=lambda run: (run.started_at, run.pk), reverse=True)]
    seen, url, pages = [], "/api/runs?page_size=3", []
    while url:
        body = api.get(url).json()
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == expected
    assert [len(page["results"]) for page in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None and pages[1]["previous"] is not None
    assert "page_size=3" in pages[1]["next"]
    back = api.get(pages[2]["previous"]).json()
    assert [row["id"] for row in back["results"]] == expected[3:6]
    top = api.get(pages[1]["previous"]).json()
    assert [row["id"] for row in top["results"]] == expected[:3] and top["previous"] is None


def test_the_cursor_keeps_the_filters(api, make_run):
    for i in range(3):
        make_run(agent_name="keep", started_at=T0 - timedelta(minutes=i))
    make_run(agent_name="drop", started_at=T0 - timedelta(seconds=30))
    first = api.get("/api/runs?agent_name=keep&page_size=2").json()
    assert parse_qs(urlparse(first["next"]).query)["agent_name"] == ["keep"]
    second = api.get(first["next"]).json()
    assert [row["agent_name"] for row in second["results"]] == ["keep"]


def test_detail_has_the_run_and_its_steps(api, traced_run):
    response = api.get(f"/api/runs/{traced_run.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["input"] == {"question": "Why is Mars red?"}
    assert [step["name"] for step in body["steps"]] == ["plan", "lookup", "search", "read_document", "answer"]
    lookup = body["steps"][1]
    assert body["steps"][2]["parent_id"] == lookup["id"]
    assert body["steps"][2]["status"] == "failed" and body["steps"][2]["error"]["type"] == "TimeoutError"
    assert body["steps_next"] is None
    assert api.get(f"/api/runs/{traced_run.pk}/").status_code == 200


def test_detail_of_a_long_run_gives_the_first_thousand_steps_and_a_link(api, make_run):
    run = make_run(agent_name="huge")
    RunStep.objects.bulk_create(RunStep(run=run, step_index=i, step_type="custom", name=f"s{i}") for i in range(1005))
    body = api.get(f"/api/runs/{run.pk}").json()
    assert len(body["steps"]) == 1000 and body["steps"][-1]["step_index"] == 999
    rest = api.get(body["steps_next"]).json()
    assert [step["step_index"] for step in rest["results"]] == [1000, 1001, 1002, 1003, 1004]
    assert rest["next"] is None


def test_steps_page_by_index(api, long_run):
    first = api.get(f"/api/runs/{long_run.pk}/steps?page_size=100").json()
    assert [s["step_index"] for s in first["results"]] == list(range(100))
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert second["results"][0]["step_index"] == 100
    back = api.get(second["previous"]).json()
    assert [s["step_index"] for s in back["results"]] == list(range(100))
    last = api.get(f"/api/runs/{long_run.pk}/steps?after=439").json()
    assert [s["step_index"] for s in last["results"]] == list(range(440, 450)) and last["next"] is None
    assert api.get(f"/api/runs/{long_run.pk}/steps?page_size=1001").status_code == 400
    assert api.get(f"/api/runs/{long_run.pk}/steps?after=1&before=5").status_code == 400


def test_timeline_gives_offsets_depths_and_errors(api, traced_run):
    body = api.get(f"/api/runs/{traced_run.pk}/timeline").json()
    assert body["run"]["status"] == "completed" and body["total_ms"] == 2000
    steps = {step["name"]: step for step in body["steps"]}
    assert set(steps["plan"]) == {
        "id", "index", "type", "name", "status", "start_ms", "duration_ms", "depth", "parent_id", "tokens", "has_error",
    }  # fmt: skip
    assert "input" not in steps["plan"]
    assert (steps["plan"]["start_ms"], steps["plan"]["duration_ms"], steps["plan"]["tokens"]) == (0, 400, 16)
    assert (steps["search"]["start_ms"], steps["search"]["duration_ms"]) == (400, 500)
    assert steps["search"]["depth"] == 1 and steps["search"]["parent_id"] == steps["lookup"]["id"]
    assert steps["search"]["has_error"] is True and steps["read_document"]["has_error"] is False
    assert steps["lookup"]["depth"] == 0 and steps["answer"]["depth"] == 0


def test_timeline_pages_and_filters(api, long_run):
    first = api.get(f"/api/runs/{long_run.pk}/timeline").json()
    assert len(first["steps"]) == 200 and first["previous"] is None
    second = api.get(first["next"]).json()
    assert second["steps"][0]["index"] == 200
    assert second["steps"][1]["depth"] == 1  # its parent (step 200) is in the page
    third = api.get(f"/api/runs/{long_run.pk}/timeline?after=201&page_size=2").json()
    assert [(s["index"], s["depth"]) for s in third["steps"]] == [(202, 1), (203, 1)]  # parent 200 is not
    only = api.get(f"/api/runs/{long_run.pk}/timeline?type=custom&name=STEP-1").json()["steps"]
    assert [s["name"] for s in only] == [f"step-{i}" for i in range(0, 450, 5) if str(i).startswith("1")]
    assert all(s["depth"] == 0 for s in only)
    assert api.get(f"/api/runs/{long_run.pk}/timeline?type=nope").status_code == 400


def test_run_endpoints_check_ownership(api, make_run, bob_project):
    bobs = make_run(project=bob_project, agent_name="bobs-bot")
    for suffix in ("", "/steps", "/timeline"):
        response = api.get(f"/api/runs/{bobs.pk}{suffix}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": {}}
    assert api.delete(f"/api/runs/{bobs.pk}").status_code == 404
    assert Run.objects.filter(pk=bobs.pk).exists()


def test_delete_removes_the_run_and_its_steps(api, traced_run):
    assert api.delete(f"/api/runs/{traced_run.pk}").status_code == 204
    assert not Run.objects.filter(pk=traced_run.pk).exists()
    assert not RunStep.objects.filter(run_id=traced_run.pk).exists()
    assert api.get(f"/api/runs/{traced_run.pk}").status_code == 404


def test_the_list_query_count_is_flat(api, make_run, django_assert_max_num_queries):
    for i in range(30):
        make_run(agent_name=f"agent-{i % 3}", started_at=T0 - timedelta(minutes=i))
    # token revocation, user, projects, runs, and where they matched q: their steps, and the runs themselves;
    # on PostgreSQL, its estimate of the matches (which way to search)
    with django_assert_max_num_queries(6 + (connection.vendor == "postgresql")):
        assert len(api.get("/api/runs?q=agent-1").json()["results"]) == 10


def test_the_schema_documents_the_runs_api(api):
    schema = api.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert {"/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/steps", "/api/runs/{run_id}/timeline"} <= set(paths)
    names = {param["name"] for param in paths["/api/runs"]["get"]["parameters"]}
    assert {
        "project_id",
        "status",
        "agent_name",
        "started_after",
        "started_before",
        "q",
        "cursor",
        "page_size",
    } <= names
    assert "delete" in paths["/api/runs/{run_id}"]
