import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.runs.models import Run, RunStatus

pytestmark = pytest.mark.django_db

RUNS = "/api/ingest/run"


def post(client, url, body):
    return client.post(url, body, format="json")


def patch(client, url, body):
    return client.patch(url, body, format="json")


def test_it_creates_a_run(ingest, project):
    response = post(ingest, RUNS, {"agent_name": "support-bot", "input": {"q": "hi"}, "metadata": {"env": "ci"}})
    assert response.status_code == 201
    body = response.json()
    run = Run.objects.get(pk=body["id"])
    assert run.project == project
    assert body["project_id"] == str(project.id)
    assert body["agent_name"] == "support-bot"
    assert body["status"] == "running"
    assert body["input"] == {"q": "hi"}
    assert body["metadata"] == {"env": "ci"}
    assert body["ended_at"] is None
    assert (body["step_count"], body["error_count"], body["total_tokens"], body["duration_ms"]) == (0, 0, 0, None)
    assert {"created_at", "started_at", "external_id", "output", "error", "replay_of_id"} <= body.keys()


def test_it_answers_with_and_without_a_trailing_slash(ingest):
    assert post(ingest, RUNS, {"agent_name": "a"}).status_code == 201
    assert post(ingest, RUNS + "/", {"agent_name": "b"}).status_code == 201


def test_it_takes_a_client_id_start_time_and_status(ingest):
    run_id = uuid.uuid4()
    body = {"id": str(run_id), "agent_name": "a", "started_at": "2026-01-02T03:04:05Z", "status": "pending"}
    response = post(ingest, RUNS, body)
    assert response.status_code == 201
    run = Run.objects.get(pk=run_id)
    assert run.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert run.status == RunStatus.PENDING


def test_a_retried_external_id_returns_the_stored_run_unchanged(ingest):
    first = post(ingest, RUNS, {"agent_name": "a", "external_id": "job-1", "input": {"n": 1}}).json()
    again = post(ingest, RUNS, {"agent_name": "other", "external_id": "job-1", "input": {"n": 2}})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["input"] == {"n": 1}
    assert Run.objects.count() == 1


def test_a_retried_id_returns_the_stored_run_unchanged(ingest):
    run_id = str(uuid.uuid4())
    assert post(ingest, RUNS, {"id": run_id, "agent_name": "a"}).status_code == 201
    again = post(ingest, RUNS, {"id": run_id, "agent_name": "b"})
    assert again.status_code == 200
    assert again.json()["agent_name"] == "a"
    assert Run.objects.count() == 1


def test_the_same_external_id_in_two_projects_makes_two_runs(ingest, bob_ingest):
    assert post(ingest, RUNS, {"agent_name": "a", "external_id": "job-1"}).status_code == 201
    assert post(bob_ingest, RUNS, {"agent_name": "a", "external_id": "job-1"}).status_code == 201
    assert Run.objects.count() == 2


def test_an_id_taken_in_another_project_is_409_and_untouched(ingest, bob_run):
    response = post(ingest, RUNS, {"id": str(bob_run.id), "agent_name": "thief"})
    assert response.status_code == 409
    assert response.json()["errors"] == {"id": ["Already taken: choose another id."]}
    assert "bobs-bot" not in response.content.decode()
    bob_run.refresh_from_db()
    assert bob_run.agent_name == "bobs-bot"


def test_a_blank_external_id_is_no_external_id(ingest):
    assert post(ingest, RUNS, {"agent_name": "a", "external_id": ""}).status_code == 201
    assert post(ingest, RUNS, {"agent_name": "a", "external_id": ""}).status_code == 201
    assert list(Run.objects.values_list("external_id", flat=True)) == [None, None]


def test_agent_name_is_required(ingest):
    response = post(ingest, RUNS, {"input": {}})
    assert response.status_code == 400
    assert response.json()["detail"] == "agent_name: This field is required."
    assert list(response.json()["errors"]) == ["agent_name"]


def test_it_updates_a_run_merging_metadata(ingest, run):
    run.metadata = {"env": "ci", "tier": "free"}
    run.save()
    response = patch(ingest, f"{RUNS}/{run.id}", {"output": {"a": 1}, "metadata": {"tier": "pro", "v": 2}})
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.output == {"a": 1}
    assert run.metadata == {"env": "ci", "tier": "pro", "v": 2}
    assert run.status == RunStatus.RUNNING
    assert run.ended_at is None


def test_a_null_metadata_clears_it(ingest, run):
    run.metadata = {"env": "ci"}
    run.save()
    assert patch(ingest, f"{RUNS}/{run.id}", {"metadata": None}).status_code == 200
    run.refresh_from_db()
    assert run.metadata is None


def test_a_finished_status_ends_the_run(ingest, run):
    response = patch(ingest, f"{RUNS}/{run.id}/", {"status": "failed", "error": {"message": "boom"}})
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.ended_at is not None
    assert run.duration_ms == (run.ended_at - run.started_at) // timedelta(milliseconds=1)


def test_a_bad_status_is_400(ingest, run):
    response = patch(ingest, f"{RUNS}/{run.id}", {"status": "exploded"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_it_ends_a_run(ingest, run):
    ended_at = run.started_at + timedelta(seconds=2, milliseconds=345)
    body = {"output": {"answer": 42}, "ended_at": ended_at.isoformat()}
    response = post(ingest, f"{RUNS}/{run.id}/end", body)
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["duration_ms"] == 2345
    run.refresh_from_db()
    assert (run.status, run.output, run.ended_at, run.duration_ms) == ("completed", {"answer": 42}, ended_at, 2345)


def test_an_end_with_an_error_is_failed_unless_told_otherwise(ingest, run, project):
    assert post(ingest, f"{RUNS}/{run.id}/end", {"error": "boom"}).json()["status"] == "failed"
    other = post(ingest, RUNS, {"agent_name": "a"}).json()["id"]
    response = post(ingest, f"{RUNS}/{other}/end", {"error": "handled", "status": "completed"})
    assert response.json()["status"] == "completed"


def test_ending_twice_changes_nothing(ingest, run):
    first = post(ingest, f"{RUNS}/{run.id}/end", {"output": {"a": 1}}).json()
    second = post(ingest, f"{RUNS}/{run.id}/end", {"output": {"a": 1}})
    assert second.status_code == 200
    assert second.json() == first


def test_it_checks_ownership(ingest, bob_run):
    bob_run_url = f"{RUNS}/{bob_run.id}"
    for response in (
        patch(ingest, bob_run_url, {"status": "failed"}),
        post(ingest, bob_run_url + "/end", {}),
        post(ingest, bob_run_url + "/step", {"step_type": "custom", "name": "x"}),
        patch(ingest, f"{bob_run_url}/step/{uuid.uuid4()}", {"output": 1}),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": {}}
    bob_run.refresh_from_db()
    assert (bob_run.status, bob_run.ended_at, bob_run.step_count) == ("running", None, 0)


def test_an_unknown_run_is_404(ingest):
    response = post(ingest, f"{RUNS}/{uuid.uuid4()}/end", {})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}
    assert ingest.post(f"{RUNS}/not-a-uuid/end", {}, format="json").json() == {"detail": "Not found.", "errors": {}}
