"""POST /api/runs/{id}/replay and the replay plan the SDK reads (/api/ingest/run/{id}/replay-plan)."""

from datetime import timedelta

import pytest

from apps.runs.models import Run, RunStatus, RunStep
from apps.runs.replay import run_replay_create
from apps.runs.tests.conftest import T0, add_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(make_run):
    """plan (llm, 10 tokens) → search (tool, failed) → answer (llm, 5 tokens) → cite."""
    run = make_run(agent_name="research-assistant", input={"question": "Why is Mars red?"}, end=False)
    at = T0
    add_steps(
        run,
        [
            {"step_type": "llm_call", "name": "plan", "input": {"q": 1}, "output": {"a": "search"}, "tokens_used": 10,
             "started_at": at, "ended_at": at + timedelta(milliseconds=100)},
            {"step_type": "tool_call", "name": "search", "input": {"query": "mars"}, "error": {"message": "timeout"},
             "started_at": at + timedelta(milliseconds=100), "ended_at": at + timedelta(milliseconds=200)},
            {"step_type": "llm_call", "name": "answer", "input": {"sources": []}, "output": {"text": "Rust."},
             "tokens_used": 5, "started_at": at + timedelta(milliseconds=200), "ended_at": at + timedelta(milliseconds=300)},
            {"step_type": "custom", "name": "cite", "input": {}, "output": ["mars.txt"],
             "started_at": at + timedelta(milliseconds=300), "ended_at": at + timedelta(milliseconds=400)},
        ],
    )  # fmt: skip
    run.refresh_from_db()
    return run


def test_it_works(api, recorded):
    answer = api.post(f"/api/runs/{recorded.pk}/replay", {"from_step": 2}, format="json")
    assert answer.status_code == 201
    body = answer.json()
    replay = Run.objects.get(pk=body["id"])
    assert replay.status == RunStatus.PENDING
    assert replay.replay_of_id == recorded.pk and replay.replay_from_step == 2
    assert replay.agent_name == "research-assistant" and replay.input == {"question": "Why is Mars red?"}
    assert body["command"] == f"agentscope replay {replay.pk} --agent module:function"
    copies = list(replay.steps.order_by("step_index"))
    originals = list(recorded.steps.order_by("step_index"))[:2]
    assert [(s.step_index, s.name, s.output, s.error) for s in copies] == [
        (s.step_index, s.name, s.output, s.error) for s in originals
    ]
    assert [s.metadata["replayed_from"] for s in copies] == [str(s.pk) for s in originals]
    assert (replay.step_count, replay.error_count, replay.total_tokens) == (2, 1, 10)
    # The copies keep their shape on the new run's clock.
    assert copies[0].started_at == replay.started_at
    assert copies[1].ended_at - copies[0].started_at == timedelta(milliseconds=200)


def test_it_takes_a_new_input_and_step_edits(api, recorded):
    body = {"from_step": 1, "input": {"question": "Why is Venus hot?"}, "step_input": {"query": "venus"}}
    replay = Run.objects.get(pk=api.post(f"/api/runs/{recorded.pk}/replay", body, format="json").json()["id"])
    assert replay.input == {"question": "Why is Venus hot?"}
    settings = replay.metadata["replay"]
    assert settings["step_input"] == {"query": "venus"} and "step_output" not in settings
    assert settings["fork"] == {"type": "tool_call", "name": "search"}


def test_an_unchanged_step_input_is_no_edit(api, recorded):
    body = {"from_step": 1, "step_input": {"query": "mars"}}
    replay = Run.objects.get(pk=api.post(f"/api/runs/{recorded.pk}/replay", body, format="json").json()["id"])
    assert "step_input" not in replay.metadata["replay"]


@pytest.mark.parametrize("from_step", [-1, 4, 99, "two", None])
def test_it_checks_the_bounds(api, recorded, from_step):
    answer = api.post(f"/api/runs/{recorded.pk}/replay", {"from_step": from_step}, format="json")
    assert answer.status_code == 400
    assert "from_step" in answer.json()["errors"]
    assert Run.objects.count() == 1


def test_step_zero_copies_nothing(api, recorded):
    replay = Run.objects.get(
        pk=api.post(f"/api/runs/{recorded.pk}/replay", {"from_step": 0}, format="json").json()["id"]
    )
    assert replay.step_count == 0 and not replay.steps.exists()


def test_a_replay_of_a_replay_works(api, recorded):
    first = run_replay_create(run=recorded, from_step=3)
    answer = api.post(f"/api/runs/{first.pk}/replay", {"from_step": 2}, format="json")
    assert answer.status_code == 201
    second = Run.objects.get(pk=answer.json()["id"])
    assert second.replay_of_id == first.pk and second.step_count == 2
    assert second.steps.get(step_index=0).metadata["replayed_from"] == str(first.steps.get(step_index=0).pk)


def test_nested_copies_keep_their_parent(make_run):
    run = make_run(end=False)
    outer = add_steps(run, [{"step_type": "custom", "name": "lookup", "input": {}}])[0]
    add_steps(run, [{"step_type": "tool_call", "name": "fetch", "parent_id": outer.pk, "input": {}, "output": 1}] * 2)
    replay = run_replay_create(run=run, from_step=2)
    copies = {step.step_index: step for step in replay.steps.all()}
    assert copies[1].parent_id == copies[0].pk
    assert replay.metadata["replay"]["fork_ancestors"] == [0]


def test_it_checks_ownership(api, anon_api, make_run, bob_project, recorded):
    bobs = make_run(project=bob_project, steps=[{"step_type": "custom", "name": "x", "output": 1}])
    assert api.post(f"/api/runs/{bobs.pk}/replay", {"from_step": 0}, format="json").status_code == 404
    assert anon_api.post(f"/api/runs/{recorded.pk}/replay", {"from_step": 0}, format="json").status_code == 401
    assert Run.objects.filter(replay_of__isnull=False).count() == 0


# The plan ----------------------------------------------------------------------------------------


def test_the_plan_lists_the_recorded_steps(ingest, recorded):
    replay = run_replay_create(run=recorded, from_step=2, step_output={"text": "Dust."})
    answer = ingest.get(f"/api/ingest/run/{replay.pk}/replay-plan")
    assert answer.status_code == 200
    plan = answer.json()
    assert plan["from_step"] == 2 and plan["replay_of"] == str(recorded.pk)
    assert plan["has_step_output"] and plan["step_output"] == {"text": "Dust."} and not plan["has_step_input"]
    assert plan["fork"] == {"type": "llm_call", "name": "answer"}
    assert [(s["index"], s["type"], s["name"], s["output"]) for s in plan["steps"]] == [
        (0, "llm_call", "plan", {"a": "search"}),
        (1, "tool_call", "search", None),
    ]
    assert plan["steps"][1]["error"] == {"message": "timeout"}
    assert Run.objects.get(pk=replay.pk).status == RunStatus.PENDING  # reading claims nothing


def test_claiming_the_plan_starts_the_replay_once(ingest, recorded):
    replay = run_replay_create(run=recorded, from_step=2)
    copy = replay.steps.get(step_index=0)
    first = ingest.post(f"/api/ingest/run/{replay.pk}/replay-plan")
    assert first.status_code == 200 and first.json()["run"]["status"] == "running"
    replay.refresh_from_db()
    assert replay.status == RunStatus.RUNNING and replay.started_at > copy.started_at
    assert RunStep.objects.get(pk=copy.pk).started_at == replay.started_at  # the copies moved with the clock
    again = ingest.post(f"/api/ingest/run/{replay.pk}/replay-plan")
    assert again.status_code == 409 and "run_id" in again.json()["errors"]


def test_the_plan_of_a_run_that_is_no_replay_is_a_400(ingest, recorded):
    answer = ingest.get(f"/api/ingest/run/{recorded.pk}/replay-plan")
    assert answer.status_code == 400


def test_the_plan_requires_the_projects_key(ingest, anon_api, make_run, bob_project, recorded):
    bobs = make_run(project=bob_project, steps=[{"step_type": "custom", "name": "x", "output": 1}] * 2)
    replay = run_replay_create(run=bobs, from_step=1)
    assert ingest.get(f"/api/ingest/run/{replay.pk}/replay-plan").status_code == 404
    assert ingest.post(f"/api/ingest/run/{replay.pk}/replay-plan").status_code == 404
    mine = run_replay_create(run=recorded, from_step=1)
    assert anon_api.get(f"/api/ingest/run/{mine.pk}/replay-plan").status_code == 401
