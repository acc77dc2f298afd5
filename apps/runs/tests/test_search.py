"""Full-text search over runs and their steps (apps.runs.search), through the API and the page."""
# ruff: noqa: RUF001 (Greek and Cyrillic text is the point)

import re

import pytest

from apps.runs.services import run_create, step_create

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def corpus(make_run):
    """Runs whose steps hold text in four scripts, in outputs, nested JSON values and errors."""
    return {
        "latin": make_run(
            agent_name="support-bot",
            steps=[
                {"step_type": "llm_call", "name": "reply", "output": {"text": "Your refund was approved today."}},
            ],
        ),
        "cyrillic": make_run(
            agent_name="ru-bot",
            steps=[
                {"step_type": "tool_call", "name": "lookup", "input": {"q": "x"}, "output": {"x": 1}},
                {
                    "step_type": "llm_call",
                    "name": "answer",
                    "input": {"messages": [{"role": "user", "content": {"deep": ["Где мой Возврат денег?"]}}]},
                    "output": "ok",
                },
            ],
        ),
        "greek": make_run(
            agent_name="gr-bot",
            steps=[
                {
                    "step_type": "tool_call",
                    "name": "pay",
                    "error": {"type": "PaymentError", "message": "Η πληρωμή απορρίφθηκε από την τράπεζα"},
                },
            ],
        ),
        "cjk": make_run(
            agent_name="zh-bot",
            steps=[{"step_type": "llm_call", "name": "reply", "output": {"text": "您的退款申请已经通过了。"}}],
        ),
    }


@pytest.mark.parametrize(
    ("q", "expected", "step"),
    [
        ("refund", "latin", 0),
        ("REFUND", "latin", 0),
        ("возврат", "cyrillic", 1),
        ("απορρίφθηκε", "greek", 0),
        ("PaymentError", "greek", 0),
        ("退款", "cjk", 0),
        ("退款申请", "cjk", 0),
        ('"refund was approved"', "latin", 0),
        ('"Возврат денег"', "cyrillic", 1),
        ("refu*", "latin", 0),
        ("πληρω*", "greek", 0),
    ],
)
def test_it_finds_words_in_any_script_and_names_the_step(api, client_alice, corpus, q, expected, step):
    assert ids(api.get("/api/runs", {"q": q})) == [str(corpus[expected].pk)]
    html = client_alice.get("/runs", {"q": q}).content.decode()
    assert f"/runs/{corpus[expected].pk}?step={step}&amp;find=" in html
    assert "<mark>" in html


def test_a_phrase_needs_its_words_in_order(api, corpus):
    assert ids(api.get("/api/runs", {"q": '"approved refund"'})) == []
    assert ids(api.get("/api/runs", {"q": "approved refund"})) == [str(corpus["latin"].pk)]
    assert ids(api.get("/api/runs", {"q": '"退款通过"'})) == []


def test_it_matches_runs_by_their_own_input_and_agent_name(api, make_run):
    run = make_run(agent_name="billing-agent", input={"question": "Where is invoice 4411?"})
    assert ids(api.get("/api/runs", {"q": "invoice"})) == [str(run.pk)]
    assert ids(api.get("/api/runs", {"q": "billing-agent"})) == [str(run.pk)]
    assert ids(api.get("/api/runs", {"q": str(run.pk)})) == [str(run.pk)]


def test_a_step_written_later_or_changed_is_found(api, project):
    run, _ = run_create(project=project, agent_name="bot")
    step, _ = step_create(run=run, data={"step_type": "llm_call", "name": "think", "input": {"q": "start"}})
    assert ids(api.get("/api/runs", {"q": "zanzibar"})) == []
    api_key_free_update = {"output": {"text": "We fly to Zanzibar"}}
    from apps.runs.services import step_update

    step_update(run=run, step_id=step.pk, data=api_key_free_update)
    assert ids(api.get("/api/runs", {"q": "zanzibar"})) == [str(run.pk)]


def test_batch_writes_are_indexed(ingest, api):
    run_id = "0d3c2f6e-5b8f-4a3e-9a55-000000000001"
    events = [{"type": "run.create", "body": {"id": run_id, "agent_name": "bot"}}]
    events += [
        {
            "type": "step.create",
            "body": {"run_id": run_id, "step_type": "custom", "name": f"s{n}", "output": f"word{n}"},
        }
        for n in range(30)  # enough for COPY on PostgreSQL
    ]
    assert ingest.post("/api/ingest/batch", {"events": events}, format="json").status_code in (200, 207)
    assert ids(api.get("/api/runs", {"q": "word29"})) == [run_id]


def test_it_finds_nothing_in_another_tenants_runs(api, corpus, bob_project, make_run):
    theirs = make_run(project=bob_project, steps=[{"step_type": "custom", "name": "x", "output": "secret refund"}])
    assert str(theirs.pk) not in ids(api.get("/api/runs", {"q": "refund"}))
    assert ids(api.get("/api/runs", {"q": "secret"})) == []


@pytest.mark.parametrize("q", ['"refund was', "refund*", '""refund'])
def test_odd_but_searchable_queries_answer(api, corpus, q):
    assert ids(api.get("/api/runs", {"q": q})) == [str(corpus["latin"].pk)]


@pytest.mark.parametrize("q", ["*", '"', "***", "x" * 10_000, "refund\x00", "?!"])
def test_bad_queries_get_a_clear_400_never_a_500(api, client_alice, corpus, q):
    response = api.get("/api/runs", {"q": q})
    assert response.status_code == 400
    assert response.json()["errors"]["q"]
    page = client_alice.get("/runs", {"q": q})
    assert page.status_code == 200


def test_results_page_through_by_cursor(api, make_run):
    runs = [make_run(steps=[{"step_type": "custom", "name": "s", "output": f"needle {n}"}]) for n in range(5)]
    first = api.get("/api/runs", {"q": "needle", "page_size": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert sorted(seen) == sorted(str(run.pk) for run in runs) and third["next"] is None


def test_the_hit_opens_the_step_with_the_words_marked(client_alice, corpus):
    html = client_alice.get("/runs", {"q": "возврат"}).content.decode()
    link = re.search(r'class="search-hit" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    page = client_alice.get(link).content.decode()
    assert "data-search-found" in page and "<mark>Возврат</mark>" in page
    assert 'data-step="1"' in page


def test_reindex_makes_rows_written_before_search_findable(api, corpus):
    from django.core.management import call_command

    from apps.runs.models import Run, RunStep

    RunStep.objects.update(search=None)
    Run.objects.update(search=None)
    assert ids(api.get("/api/runs", {"q": "refund"})) == []
    call_command("search_reindex", batch=2)
    assert ids(api.get("/api/runs", {"q": "refund"})) == [str(corpus["latin"].pk)]
    assert ids(api.get("/api/runs", {"q": "ru-bot"})) == [str(corpus["cyrillic"].pk)]


def test_the_walk_and_the_index_find_the_same_runs(api, corpus, make_run, monkeypatch):
    """On PostgreSQL a common word walks the runs and a rare one reads the index: same answers."""
    from apps.runs import search

    queries = ["refund", '"Возврат денег"', "πληρω*", "退款申请", "PaymentError", "nothing-here", "zh-bot"]
    by_index = {q: ids(api.get("/api/runs", {"q": q})) for q in queries}
    monkeypatch.setattr(search, "MIN_COMMON", -1)
    monkeypatch.setattr(search, "WALK_COST", 0)
    assert {q: ids(api.get("/api/runs", {"q": q})) for q in queries} == by_index
