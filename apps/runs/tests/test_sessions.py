"""Sessions: runs sharing a session_id, listed and read as one conversation (page and API)."""

from datetime import timedelta

import pytest

from apps.runs.tests.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(make_run):
    """Three turns of session s-1 (user u-1), one of s-2, a run without a session."""
    turns = [
        make_run(
            agent_name="support-bot",
            session_id="s-1",
            user_id="u-1",
            started_at=T0 + timedelta(minutes=n),
            input={"messages": [{"role": "user", "content": f"question number {n}"}]},
            steps=[{"step_type": "llm_call", "name": "reply", "tokens_used": 10, "output": "x"}],
        )
        for n in range(3)
    ]
    other = make_run(session_id="s-2", started_at=T0 - timedelta(hours=1), error={"message": "boom"})
    make_run(started_at=T0 + timedelta(hours=1))
    return turns, other


def test_the_api_lists_sessions_by_last_activity(api, conversation):
    body = api.get("/api/sessions").json()
    assert [row["session_id"] for row in body["results"]] == ["s-1", "s-2"]
    first = body["results"][0]
    assert (first["runs"], first["total_tokens"], first["user_id"], first["failed_runs"]) == (3, 30, "u-1", 0)
    assert body["results"][1]["failed_runs"] == 1


def test_the_api_pages_sessions_by_cursor(api, make_run):
    for n in range(5):
        make_run(session_id=f"s-{n}", started_at=T0 + timedelta(minutes=n))
    seen, url = [], "/api/sessions?page_size=2"
    while url:
        body = api.get(url).json()
        seen += [row["session_id"] for row in body["results"]]
        url = body["next"]
    assert seen == ["s-4", "s-3", "s-2", "s-1", "s-0"]


def test_the_api_reads_a_session_turn_by_turn(api, conversation):
    turns, _ = conversation
    body = api.get("/api/sessions/s-1?page_size=2").json()
    assert body["runs"] == 3 and [turn["id"] for turn in body["turns"]] == [str(run.pk) for run in turns[:2]]
    assert body["turns"][0]["input"]["messages"][0]["content"] == "question number 0"
    rest = api.get(body["turns_next"]).json()
    assert [turn["id"] for turn in rest["turns"]] == [str(turns[2].pk)] and rest["turns_next"] is None


def test_another_tenants_session_is_a_404(api, bob_project, make_run, anon_api):
    make_run(project=bob_project, session_id="theirs")
    assert api.get("/api/sessions/theirs").status_code == 404
    assert api.get("/api/sessions").json()["results"] == []
    assert anon_api.get("/api/sessions").status_code in (401, 403)
    assert api.get("/api/sessions?cursor=nonsense").status_code == 400


def test_the_sessions_page_and_the_conversation(client_alice, conversation):
    turns, _ = conversation
    html = client_alice.get("/sessions").content.decode()
    assert "/sessions/s-1" in html and "/sessions/s-2" in html
    page = client_alice.get("/sessions/s-1").content.decode()
    assert page.count("data-turn") == 3 and "question number 2" in page
    assert f"/runs/{turns[0].pk}" in page
    assert client_alice.get("/sessions/nope").status_code == 404


def test_a_long_session_loads_by_pages(client_alice, make_run, django_assert_max_num_queries):
    for n in range(60):
        make_run(session_id="long", started_at=T0 + timedelta(seconds=n), end=False)
    with django_assert_max_num_queries(8):
        first = client_alice.get("/sessions/long").content.decode()
    assert first.count("data-turn") == 50 and 'id="turns-more"' in first
    more = client_alice.get(
        "/sessions/long?cursor=" + first.split("cursor=")[1].split('"')[0],
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="turns-more",
    )
    assert more.content.decode().count("data-turn") == 10


def test_the_sdk_sets_session_and_user(ingest, api):
    response = ingest.post(
        "/api/ingest/run", {"agent_name": "bot", "session_id": "chat-9", "user_id": "u-7"}, format="json"
    )
    assert response.status_code == 201 and response.json()["session_id"] == "chat-9"
    assert api.get("/api/sessions/chat-9").json()["user_id"] == "u-7"


def test_a_sessions_cost_is_the_sum_of_its_priced_runs_and_says_what_has_no_price(api, client_alice, make_run):
    for n, cost in enumerate(("0.25", "0.5")):
        make_run(
            session_id="paid",
            started_at=T0 + timedelta(minutes=n),
            steps=[{"step_type": "llm_call", "name": "reply", "metadata": {"model": "own-model", "cost_usd": cost}}],
        )
    make_run(
        session_id="paid",
        started_at=T0 + timedelta(minutes=5),
        steps=[
            {
                "step_type": "llm_call",
                "name": "reply",
                "output": "x",
                "metadata": {"model": "no-such-model-anywhere", "usage": {"input_tokens": 10, "output_tokens": 5}},
            }
        ],
    )
    make_run(session_id="free", started_at=T0 - timedelta(hours=1))

    rows = {row["session_id"]: row for row in api.get("/api/sessions").json()["results"]}
    assert (rows["paid"]["cost_usd"], rows["paid"]["unpriced_steps"]) == ("0.7500000000", 1)
    assert (rows["free"]["cost_usd"], rows["free"]["unpriced_steps"]) == (None, 0)
    assert api.get("/api/sessions/paid").json()["cost_usd"] == "0.7500000000"
    page = client_alice.get("/sessions").content.decode()
    paid_row = page[page.index('href="/sessions/paid"') :].split("</tr>")[0]
    assert "$0.75" in paid_row and 'aria-label="plus 1 without a price"' in paid_row
    free_row = page[page.index('href="/sessions/free"') :].split("</tr>")[0]
    assert "$" not in free_row and "no price" not in free_row
