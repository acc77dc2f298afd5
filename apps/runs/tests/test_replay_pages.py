"""The replay dialog, a pending replay's page, the replays list and the compare page."""

import pytest
from django.test import Client

from apps.runs.models import Run
from apps.runs.replay import run_replay_create
from apps.runs.services import step_create

pytestmark = pytest.mark.django_db
STEPS = [
    {"step_type": "llm_call", "name": "plan", "input": {"q": "mars"}, "output": {"a": "search"}, "tokens_used": 7},
    {"step_type": "tool_call", "name": "search", "input": {"query": "mars"}, "output": ["mars.txt"]},
    {"step_type": "llm_call", "name": "answer", "input": {"sources": 1}, "output": {"text": "Rust."}},
]


@pytest.fixture
def recorded(make_run):
    return make_run(agent_name="research-assistant", input={"question": "Why is Mars red?"}, steps=STEPS)


def test_the_run_page_offers_replay_from_the_selected_step(client_alice, recorded):
    page = client_alice.get(f"/runs/{recorded.pk}?step=1").content.decode()
    assert 'commandfor="replay-dialog"' in page and 'id="replay-dialog"' in page
    assert '<option value="1" selected>#1 · search (Tool call)</option>' in page
    assert "&quot;query&quot;: &quot;mars&quot;" in page  # the selected step's input, to edit


def test_it_creates_the_replay_and_shows_the_command(client_alice, recorded):
    answer = client_alice.post(
        f"/runs/{recorded.pk}/replay",
        {"from_step": "1", "step_input": '{"query": "venus"}', "input": '{"question": "Why is Mars red?"}'},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="replay-body",
    )
    assert answer.status_code == 200
    replay = Run.objects.get(replay_of=recorded)
    html = answer.content.decode()
    assert f"agentscope replay {replay.pk} --agent module:function" in html
    assert f'href="/runs/{replay.pk}"' in html
    assert replay.metadata["replay"]["step_input"] == {"query": "venus"} and replay.step_count == 1


def test_invalid_json_is_shown_not_saved(client_alice, recorded):
    answer = client_alice.post(
        f"/runs/{recorded.pk}/replay", {"from_step": "1", "step_input": "{query: venus"}, HTTP_HX_REQUEST="true"
    )
    assert "Step input is not valid JSON" in answer.content.decode()
    out_of_range = client_alice.post(f"/runs/{recorded.pk}/replay", {"from_step": "9"}, HTTP_HX_REQUEST="true")
    assert "Must be a step index from 0 to 2." in out_of_range.content.decode()
    assert not Run.objects.filter(replay_of=recorded).exists()


def test_without_htmx_it_redirects_to_the_replay(client_alice, recorded):
    answer = client_alice.post(f"/runs/{recorded.pk}/replay", {"from_step": "2"})
    replay = Run.objects.get(replay_of=recorded)
    assert answer.status_code == 302 and answer.url == f"/runs/{replay.pk}"


def test_a_pending_replay_shows_its_command_and_links_its_original(client_alice, recorded):
    recorded.metadata = {"agent_entrypoint": "examples.research_agent:research"}
    recorded.save()
    replay = run_replay_create(run=recorded, from_step=2)
    page = client_alice.get(f"/runs/{replay.pk}").content.decode()
    assert f"agentscope replay {replay.pk} --agent examples.research_agent:research" in page
    assert f'href="/runs/{recorded.pk}" data-replay-of' in page
    assert f"/runs/{recorded.pk}/compare/{replay.pk}" in page
    original = client_alice.get(f"/runs/{recorded.pk}").content.decode()
    assert "Replays of this run" in original and f'href="/runs/{replay.pk}"' in original
    assert "data-pending-replay" not in original


def test_the_compare_page_shows_the_change(client_alice, recorded):
    replay = run_replay_create(run=recorded, from_step=2)
    step_create(run=replay, data={"step_type": "llm_call", "name": "answer", "input": {"sources": 2}, "output": None})
    page = client_alice.get(f"/runs/{recorded.pk}/compare/{replay.pk}").content.decode()
    assert "2 identical" in page and "1 changed" in page
    assert "<code>$.sources</code>" in page


def test_the_list_compares_two_picked_runs(client_alice, recorded, make_run):
    other = make_run()
    page = client_alice.get("/runs").content.decode()
    assert page.count("data-compare-pick") == 2
    answer = client_alice.get(f"/runs/compare?run={recorded.pk}&run={other.pk}")
    assert answer.status_code == 302 and answer.url == f"/runs/{recorded.pk}/compare/{other.pk}"
    assert client_alice.get("/runs/compare?run=x").status_code == 302


def test_it_checks_ownership(client_alice, client, make_run, bob_project, recorded):
    bobs = make_run(project=bob_project, steps=STEPS)
    assert client_alice.post(f"/runs/{bobs.pk}/replay", {"from_step": "0"}).status_code == 404
    assert client_alice.get(f"/runs/{recorded.pk}/compare/{bobs.pk}").status_code == 404
    assert client_alice.get(f"/runs/{bobs.pk}/compare/{recorded.pk}").status_code == 404
    assert not Run.objects.filter(replay_of__isnull=False).exists()


def test_it_requires_login(db, recorded):
    anonymous = Client()
    assert anonymous.post(f"/runs/{recorded.pk}/replay", {"from_step": "0"}).status_code == 302
    assert anonymous.get(f"/runs/{recorded.pk}/compare/{recorded.pk}").status_code == 302
