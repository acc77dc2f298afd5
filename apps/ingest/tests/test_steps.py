import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from apps.runs.models import Run, RunStep, StepStatus
from apps.runs.services import run_create

pytestmark = pytest.mark.django_db


def steps_url(run):
    return f"/api/ingest/run/{run.id}/step"


def add(client, run, **body):
    body.setdefault("step_type", "llm_call")
    body.setdefault("name", "gpt")
    return client.post(steps_url(run), body, format="json")


def complete(client, run, step_id, **body):
    return client.patch(f"{steps_url(run)}/{step_id}", body, format="json")


def assert_counters_match_steps(run):
    """The denormalised counters equal what aggregating the steps gives."""
    run.refresh_from_db()
    totals = RunStep.objects.filter(run=run).aggregate(
        steps=Count("id"),
        errors=Count("id", filter=Q(status=StepStatus.FAILED) | Q(error__isnull=False)),
        tokens=Sum("tokens_used", default=0),
    )
    assert (run.step_count, run.error_count, run.total_tokens) == (totals["steps"], totals["errors"], totals["tokens"])


def test_it_adds_a_step(ingest, run):
    response = add(ingest, run, input={"prompt": "hi"}, output={"text": "hello"}, tokens_used=12, latency_ms=300)
    assert response.status_code == 201
    body = response.json()
    assert body["control"] == {"action": "continue"}
    assert body["run_id"] == str(run.id)
    assert (body["step_index"], body["status"], body["tokens_used"]) == (0, "completed", 12)
    step = RunStep.objects.get(pk=body["id"])
    assert (step.run, step.output, step.latency_ms) == (run, {"text": "hello"}, 300)
    run.refresh_from_db()
    assert (run.step_count, run.error_count, run.total_tokens) == (1, 0, 12)


def test_a_step_without_output_error_or_end_is_running(ingest, run):
    assert add(ingest, run, input={"q": 1}).json()["status"] == "running"
    assert add(ingest, run, ended_at=timezone.now().isoformat()).json()["status"] == "completed"
    assert add(ingest, run, output=None, ended_at=None).json()["status"] == "running"


def test_a_step_with_an_error_is_failed_and_counted(ingest, run):
    assert add(ingest, run, error={"message": "rate limited"}).json()["status"] == "failed"
    assert add(ingest, run, step_type="error", name="crash").json()["status"] == "failed"
    assert add(ingest, run, output="ok", status="completed").json()["status"] == "completed"
    run.refresh_from_db()
    assert (run.step_count, run.error_count) == (3, 2)


def test_the_server_assigns_gap_free_indexes(ingest, run):
    indexes = [add(ingest, run).json()["step_index"] for _ in range(5)]
    assert indexes == [0, 1, 2, 3, 4]


def test_a_client_index_is_kept_and_the_next_one_follows_it(ingest, run):
    assert add(ingest, run, step_index=7).json()["step_index"] == 7
    assert add(ingest, run).json()["step_index"] == 8
    assert add(ingest, run, step_index=3).json()["step_index"] == 3


def test_a_taken_client_index_is_409(ingest, run):
    add(ingest, run, step_index=0, output=1)
    response = add(ingest, run, step_index=0, output=2)
    assert response.status_code == 409
    assert response.json()["errors"] == {"step_index": ["Step index 0 is already taken in this run."]}
    run.refresh_from_db()
    assert run.step_count == 1


def test_a_retried_step_id_returns_the_stored_step_unchanged(ingest, run):
    step_id = str(uuid.uuid4())
    first = add(ingest, run, id=step_id, output={"a": 1}, tokens_used=5)
    again = add(ingest, run, id=step_id, output={"a": 2}, tokens_used=50)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["output"] == {"a": 1}
    assert again.json()["control"] == {"action": "continue"}
    run.refresh_from_db()
    assert (run.step_count, run.total_tokens) == (1, 5)


def test_a_step_id_used_in_another_run_is_409(ingest, run, project):
    other = run_create(project=project, agent_name="other")[0]
    step_id = str(uuid.uuid4())
    add(ingest, other, id=step_id)
    response = add(ingest, run, id=step_id)
    assert response.status_code == 409
    assert list(response.json()["errors"]) == ["id"]


def test_a_parent_must_be_a_step_of_the_run(ingest, run, project):
    parent = add(ingest, run).json()["id"]
    child = add(ingest, run, parent_id=parent)
    assert child.status_code == 201
    assert child.json()["parent_id"] == parent
    other = run_create(project=project, agent_name="other")[0]
    response = add(ingest, other, parent_id=parent)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["parent_id"]


def test_a_step_sent_to_an_ended_run_is_stored(ingest, run):
    ingest.post(f"/api/ingest/run/{run.id}/end", {}, format="json")
    run.refresh_from_db()
    duration = run.duration_ms
    response = add(
        ingest, run, output="late", tokens_used=3, ended_at=(timezone.now() + timedelta(hours=1)).isoformat()
    )
    assert response.status_code == 201
    run.refresh_from_db()
    assert (run.status, run.step_count, run.total_tokens, run.duration_ms) == ("completed", 1, 3, duration)


def test_a_running_run_lasts_until_its_latest_step_end(ingest, run):
    add(ingest, run, ended_at=(run.started_at + timedelta(seconds=3)).isoformat())
    add(ingest, run, ended_at=(run.started_at + timedelta(seconds=1)).isoformat())
    run.refresh_from_db()
    assert run.duration_ms == 3000


def test_it_completes_a_running_step(ingest, run):
    started = timezone.now() - timedelta(milliseconds=1500)
    step_id = add(ingest, run, input={"q": 1}, started_at=started.isoformat()).json()["id"]
    response = complete(ingest, run, step_id, output={"a": 2}, tokens_used=40, metadata={"model": "x"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["output"], body["tokens_used"], body["metadata"]) == (
        "completed",
        {"a": 2},
        40,
        {"model": "x"},
    )
    assert body["ended_at"] is not None
    assert 1500 <= body["latency_ms"] < 60_000
    run.refresh_from_db()
    assert (run.step_count, run.total_tokens, run.error_count) == (1, 40, 0)


def test_a_retried_step_patch_keeps_counters_exact(ingest, run):
    step_id = add(ingest, run, tokens_used=10).json()["id"]
    ended = timezone.now().isoformat()
    first = complete(ingest, run, step_id, error={"message": "tool failed"}, tokens_used=25)
    second = complete(ingest, run, step_id, error={"message": "tool failed"}, tokens_used=25)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["ended_at"] == second.json()["ended_at"]
    assert second.json()["status"] == "failed"
    run.refresh_from_db()
    assert (run.step_count, run.error_count, run.total_tokens) == (1, 1, 25)
    complete(ingest, run, step_id, error=None, output="recovered", status="completed", ended_at=ended)
    run.refresh_from_db()
    assert (run.error_count, run.total_tokens) == (0, 25)
    assert_counters_match_steps(run)


def test_an_unknown_step_is_404(ingest, run):
    response = complete(ingest, run, uuid.uuid4(), output=1)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_a_step_of_another_run_is_404(ingest, run, project):
    other = run_create(project=project, agent_name="other")[0]
    step_id = add(ingest, other).json()["id"]
    assert complete(ingest, run, step_id, output=1).status_code == 404


def test_counters_stay_exact_over_a_mixed_run(ingest, run):
    for n in range(6):
        step = add(ingest, run, tokens_used=n, error="x" if n % 3 == 0 else None).json()
        if n % 2:
            complete(ingest, run, step["id"], tokens_used=n * 10, **({"error": "late failure"} if n == 5 else {}))
    assert_counters_match_steps(run)
    run.refresh_from_db()
    assert (run.step_count, run.error_count, run.total_tokens) == (6, 3, 0 + 10 + 2 + 30 + 4 + 50)


def test_a_step_post_takes_a_handful_of_queries(ingest, run, django_assert_num_queries):
    add(ingest, run)  # the first use of the key writes last_used_at
    # key, and one statement on PostgreSQL (apps.runs.onestep); elsewhere the run's lock, the insert and
    # the counters; each write in a savepoint here (two queries), as the test holds a transaction
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 6):
        response = add(ingest, run, id=str(uuid.uuid4()), output="x", tokens_used=3)
    assert response.status_code == 201
    with django_assert_num_queries(7):  # key, run lock, step, step update, counters; + savepoint
        assert complete(ingest, run, response.json()["id"], output="y").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_distinct_gap_free_indexes(api_key, project):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock matters on PostgreSQL")
    run = run_create(project=project, agent_name="parallel")[0]
    statuses, barrier = [], threading.Barrier(50)

    def post_one(n):
        try:
            client = APIClient()
            client.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
            barrier.wait()
            statuses.append(add(client, run, output=n, tokens_used=1).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post_one, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 50
    assert set(RunStep.objects.filter(run=run).values_list("step_index", flat=True)) == set(range(50))
    run = Run.objects.get(pk=run.pk)
    assert (run.step_count, run.total_tokens) == (50, 50)
