"""What ingest sets off in the apps above runs: breakpoints pause steps, tests judge ended runs."""

import uuid

import pytest

from apps.breakpoints.services import breakpoint_create
from apps.runs.models import Run, RunStep
from apps.testing.models import TestRun
from apps.testing.services import test_create

pytestmark = pytest.mark.django_db

CONFIG = {
    "target": {"agent_name": "support-bot"},
    "assertions": [{"path": "output.answer", "op": "equals", "value": "42"}, {"op": "no_errors"}],
}


@pytest.fixture
def judged(project):
    return test_create(project=project, name="answers 42", test_type="assertion", config=CONFIG)


def test_ending_a_run_has_its_tests_judge_it(ingest, run, judged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest.post(f"/api/ingest/run/{run.id}/end", {"output": {"answer": "41"}}, format="json")
    assert response.status_code == 200
    verdict = TestRun.objects.get(test=judged, run=run)
    assert verdict.status == "failed"
    assert "41" in str(verdict.result)


def test_a_run_ended_in_a_batch_is_judged(ingest, project, judged, django_capture_on_commit_callbacks):
    run_id = str(uuid.uuid4())
    events = [
        {"type": "run.create", "body": {"id": run_id, "agent_name": "support-bot"}},
        {"type": "run.end", "body": {"run_id": run_id, "output": {"answer": "42"}}},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest.post("/api/ingest/batch", {"events": events}, format="json").status_code == 207
    assert TestRun.objects.get(test=judged, run_id=run_id).status == "passed"


def test_a_run_that_only_updates_is_not_judged(ingest, run, judged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest.patch(f"/api/ingest/run/{run.id}", {"metadata": {"k": 1}}, format="json")
    assert not TestRun.objects.exists()


def test_a_running_step_pauses_on_a_breakpoint_until_resumed(ingest, api, project, run):
    breakpoint_create(
        project=project, name="search", condition_type="step_type", condition_value={"step_type": "tool_call"}
    )
    step = {"id": str(uuid.uuid4()), "step_type": "tool_call", "name": "search", "input": {"q": "paris"}}
    control = ingest.post(f"/api/ingest/run/{run.id}/step", step, format="json").json()["control"]
    assert control["action"] == "pause"
    run.refresh_from_db()
    assert run.status == "paused"
    polled = ingest.get(f"/api/ingest/run/{run.id}/control").json()
    assert polled["action"] == "pause" and polled["hit_id"] == control["hit_id"]

    resumed = api.post(f"/api/runs/{run.id}/resume", {"action": "continue", "input": {"q": "lyon"}}, format="json")
    assert resumed.status_code == 200
    polled = ingest.get(f"/api/ingest/run/{run.id}/control", {"hit_id": control["hit_id"]}).json()
    assert polled == {**polled, "action": "continue", "input": {"q": "lyon"}}
    run.refresh_from_db()
    assert run.status == "running"
    assert RunStep.objects.get(pk=step["id"]).input == {"q": "lyon"}

    # A retried post of the same step gets the decision already made, not a second pause.
    again = ingest.post(f"/api/ingest/run/{run.id}/step", step, format="json").json()["control"]
    assert again["action"] == "continue"


def test_a_step_completed_with_an_error_pauses_on_an_on_error_breakpoint(ingest, project, run):
    breakpoint_create(project=project, name="errors", condition_type="on_error", condition_value={})
    step_id = str(uuid.uuid4())
    body = {"id": step_id, "step_type": "tool_call", "name": "fetch", "input": {"url": "x"}}
    assert ingest.post(f"/api/ingest/run/{run.id}/step", body, format="json").json()["control"]["action"] == "continue"
    patched = ingest.patch(f"/api/ingest/run/{run.id}/step/{step_id}", {"error": {"message": "404"}}, format="json")
    assert patched.status_code == 200
    assert patched.json()["control"]["action"] == "pause"
    assert Run.objects.get(pk=run.pk).status == "paused"


def test_resume_checks_ownership(api, bob_run):
    response = api.post(f"/api/runs/{bob_run.id}/resume", {"action": "continue"}, format="json")
    assert response.status_code == 404


def test_control_checks_ownership(ingest, bob_run):
    assert ingest.get(f"/api/ingest/run/{bob_run.id}/control").status_code == 404
