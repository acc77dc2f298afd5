import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.mcp.models import McpLog, McpTool
from apps.runs.models import Run, RunStep
from apps.runs.services import run_create

pytestmark = pytest.mark.django_db

BATCH = "/api/ingest/batch"


def send(client, *events):
    return client.post(BATCH, {"events": [{"type": kind, "body": body} for kind, body in events]}, format="json")


def statuses(response):
    return [result["status"] for result in response.json()["results"]]


def test_a_run_created_in_the_batch_takes_steps_later_in_it(ingest, project):
    run_id, step_id = str(uuid.uuid4()), str(uuid.uuid4())
    started = timezone.now() - timedelta(seconds=5)
    response = send(
        ingest,
        ("run.create", {"id": run_id, "agent_name": "bot", "started_at": started.isoformat(), "input": {"q": 1}}),
        ("step.create", {"run_id": run_id, "id": step_id, "step_type": "llm_call", "name": "plan", "tokens_used": 7}),
        (
            "step.create",
            {"run_id": run_id, "step_type": "tool_call", "name": "search", "output": [1], "tokens_used": 3},
        ),
        ("step.update", {"run_id": run_id, "id": step_id, "output": "done", "tokens_used": 9}),
        ("run.update", {"run_id": run_id, "metadata": {"env": "ci"}}),
        (
            "run.end",
            {"run_id": run_id, "output": {"answer": 42}, "ended_at": (started + timedelta(seconds=4)).isoformat()},
        ),
    )
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert statuses(response) == [201, 201, 201, 200, 200, 200]
    assert results[0]["id"] == run_id
    assert results[1]["id"] == results[3]["id"] == step_id
    run = Run.objects.get(pk=run_id)
    assert run.project == project
    assert (run.status, run.output, run.metadata, run.duration_ms) == ("completed", {"answer": 42}, {"env": "ci"}, 4000)
    assert (run.step_count, run.error_count, run.total_tokens) == (2, 0, 12)
    steps = list(RunStep.objects.filter(run=run).order_by("step_index"))
    assert [(s.step_index, s.name, s.status) for s in steps] == [(0, "plan", "completed"), (1, "search", "completed")]
    assert steps[0].output == "done"


def test_good_and_bad_events_sit_side_by_side(ingest, run, bob_run):
    response = ingest.post(
        BATCH,
        {
            "events": [
                {"type": "step.create", "body": {"run_id": str(run.id), "step_type": "custom", "name": "ok"}},
                {"type": "step.create", "body": {"run_id": str(run.id), "step_type": "bogus", "name": "bad"}},
                {"type": "step.create", "body": {"run_id": str(uuid.uuid4()), "step_type": "custom"}},
                {"type": "step.create", "body": {"run_id": str(bob_run.id), "step_type": "custom"}},
                {"type": "teleport", "body": {}},
                "not an object",
                {"type": "run.create", "body": {"input": 1}},
                {"type": "run.create", "body": {"agent_name": "fine"}},
            ]
        },
        format="json",
    )
    assert response.status_code == 207
    results = response.json()["results"]
    assert statuses(response) == [201, 400, 404, 404, 400, 400, 400, 201]
    assert results[1]["error"]["errors"] == {"step_type": ['"bogus" is not a valid choice.']}
    assert results[1]["error"]["detail"] == 'step_type: "bogus" is not a valid choice.'
    assert results[2]["error"] == {"detail": "Not found.", "errors": {}}
    assert list(results[4]["error"]["errors"]) == ["type"]
    assert list(results[6]["error"]["errors"]) == ["agent_name"]
    assert "id" not in results[1]
    assert RunStep.objects.filter(run=run).count() == 1
    assert Run.objects.filter(agent_name="fine").exists()
    bob_run.refresh_from_db()
    assert bob_run.step_count == 0


def test_replaying_a_batch_changes_nothing(ingest):
    run_id = str(uuid.uuid4())
    events = [("run.create", {"id": run_id, "agent_name": "bot", "external_id": "job-9"})]
    events += [
        (
            "step.create",
            {"run_id": run_id, "id": str(uuid.uuid4()), "step_type": "custom", "tokens_used": 2, "error": "x"},
        )
        for _ in range(3)
    ]
    events += [("run.end", {"run_id": run_id})]
    first, second = send(ingest, *events), send(ingest, *events)
    assert statuses(first) == [201, 201, 201, 201, 200]
    assert statuses(second) == [200, 200, 200, 200, 200]
    assert [r["id"] for r in first.json()["results"]] == [r["id"] for r in second.json()["results"]]
    run = Run.objects.get(pk=run_id)
    assert (run.step_count, run.error_count, run.total_tokens) == (3, 3, 6)


def test_a_retried_step_update_keeps_counters_exact(ingest, run):
    step_id = str(uuid.uuid4())
    send(ingest, ("step.create", {"run_id": str(run.id), "id": step_id, "step_type": "llm_call", "tokens_used": 1}))
    update = ("step.update", {"run_id": str(run.id), "id": step_id, "tokens_used": 30, "error": {"m": "x"}})
    assert statuses(send(ingest, update, update)) == [200, 200]
    assert statuses(send(ingest, update)) == [200]
    run.refresh_from_db()
    assert (run.step_count, run.error_count, run.total_tokens) == (1, 1, 30)
    step = RunStep.objects.get(pk=step_id)
    assert (step.status, step.tokens_used) == ("failed", 30)


def test_indexes_follow_the_single_endpoint_rules(ingest, run):
    ingest.post(f"/api/ingest/run/{run.id}/step", {"step_type": "custom", "step_index": 4}, format="json")
    rid = str(run.id)
    response = send(
        ingest,
        ("step.create", {"run_id": rid, "step_type": "custom"}),
        ("step.create", {"run_id": rid, "step_type": "custom", "step_index": 9}),
        ("step.create", {"run_id": rid, "step_type": "custom"}),
        ("step.create", {"run_id": rid, "step_type": "custom", "step_index": 4}),
        ("step.create", {"run_id": rid, "step_type": "custom", "step_index": 9}),
        ("step.create", {"run_id": rid, "step_type": "custom", "step_index": 2}),
    )
    assert statuses(response) == [201, 201, 201, 409, 409, 201]
    assert response.json()["results"][3]["error"]["errors"] == {
        "step_index": ["Step index 4 is already taken in this run."]
    }
    assert sorted(RunStep.objects.filter(run=run).values_list("step_index", flat=True)) == [2, 4, 5, 9, 10]
    run.refresh_from_db()
    assert run.step_count == 5


def test_ids_and_parents_follow_the_single_endpoint_rules(ingest, run, project):
    other = run_create(project=project, agent_name="other")[0]
    taken = RunStep.objects.create(run=other, step_index=0, step_type="custom")
    parent = str(uuid.uuid4())
    rid = str(run.id)
    response = send(
        ingest,
        ("step.create", {"run_id": rid, "id": parent, "step_type": "custom"}),
        ("step.create", {"run_id": rid, "parent_id": parent, "step_type": "tool_call"}),
        ("step.create", {"run_id": rid, "id": str(taken.id), "step_type": "custom"}),
        ("step.create", {"run_id": rid, "parent_id": str(taken.id), "step_type": "custom"}),
        ("step.update", {"run_id": rid, "id": str(taken.id), "output": 1}),
    )
    assert statuses(response) == [201, 201, 409, 400, 404]
    assert RunStep.objects.get(pk=response.json()["results"][1]["id"]).parent_id == uuid.UUID(parent)
    taken.refresh_from_db()
    assert taken.output is None


def test_a_run_id_of_another_project_is_409_and_untouched(ingest, bob_run):
    response = send(ingest, ("run.create", {"id": str(bob_run.id), "agent_name": "thief"}))
    assert statuses(response) == [409]
    bob_run.refresh_from_db()
    assert bob_run.agent_name == "bobs-bot"


def test_it_records_mcp_tools_and_logs(ingest, project, run):
    McpTool.objects.create(project=project, tool_name="search", description="old")
    response = send(
        ingest,
        ("mcp.tool", {"tool_name": "search", "description": "new", "server_name": "web"}),
        ("mcp.tool", {"tool_name": "fetch", "input_schema": {"type": "object"}}),
        ("mcp.log", {"tool_name": "fetch", "log_type": "call", "request": {"url": "x"}, "run_id": str(run.id)}),
        ("mcp.log", {"tool_name": "brand-new", "log_type": "error", "error": "timeout", "latency_ms": 30}),
        ("mcp.log", {"tool_id": str(uuid.uuid4()), "log_type": "call"}),
        ("mcp.log", {"tool_name": "fetch", "log_type": "call", "run_id": str(uuid.uuid4())}),
    )
    assert statuses(response) == [200, 201, 201, 201, 404, 404]
    tools = {t.tool_name: t for t in McpTool.objects.filter(project=project)}
    assert set(tools) == {"search", "fetch", "brand-new"}
    assert (tools["search"].description, tools["search"].server_name) == ("new", "web")
    log = McpLog.objects.get(tool=tools["fetch"])
    assert (log.run, log.request, log.project) == (run, {"url": "x"}, project)
    assert McpLog.objects.get(tool=tools["brand-new"]).latency_ms == 30


def test_a_null_stays_sql_null_through_bulk_updates(ingest, run):
    step_id = str(uuid.uuid4())
    send(ingest, ("step.create", {"run_id": str(run.id), "id": step_id, "step_type": "custom"}))
    send(
        ingest,
        ("step.update", {"run_id": str(run.id), "id": step_id, "output": "ok"}),
        ("run.update", {"run_id": str(run.id), "status": "paused"}),
    )
    assert RunStep.objects.filter(pk=step_id, error__isnull=True, metadata__isnull=True).exists()
    assert Run.objects.filter(pk=run.pk, output__isnull=True, error__isnull=True).exists()


def test_more_than_a_thousand_events_is_400(ingest):
    events = [{"type": "run.create", "body": {"agent_name": "x"}}] * 1001
    response = ingest.post(BATCH, {"events": events}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events"]
    assert not Run.objects.exists()


def test_events_are_required(ingest):
    response = ingest.post(BATCH, {"things": []}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events"]


def test_a_hundred_steps_take_a_few_queries(ingest, run, django_assert_max_num_queries):
    send(ingest, ("run.update", {"run_id": str(run.id)}))  # the first use of the key writes last_used_at
    rid = str(run.id)
    events = [
        (
            "step.create",
            {"run_id": rid, "id": str(uuid.uuid4()), "step_type": "llm_call", "tokens_used": n, "output": n},
        )
        for n in range(100)
    ]
    with django_assert_max_num_queries(10):  # 8: key, lock, steps, max index, insert, runs, savepoint x2
        response = send(ingest, *events)
    assert statuses(response) == [201] * 100
    run.refresh_from_db()
    assert (run.step_count, run.total_tokens) == (100, sum(range(100)))
    assert sorted(RunStep.objects.filter(run=run).values_list("step_index", flat=True)) == list(range(100))


def test_a_thousand_mixed_events_take_a_few_queries(ingest, django_assert_max_num_queries):
    send(ingest, ("run.create", {"agent_name": "warm-up"}))
    events = []
    for _ in range(100):
        run_id = str(uuid.uuid4())
        events.append(("run.create", {"id": run_id, "agent_name": "bot"}))
        step_ids = [str(uuid.uuid4()) for _ in range(8)]
        events += [
            (
                "step.create",
                {
                    "run_id": run_id,
                    "id": step_id,
                    "parent_id": step_ids[0] if n else None,
                    "step_type": "custom",
                    "tokens_used": 1,
                },
            )
            for n, step_id in enumerate(step_ids)
        ]
        events.append(("run.end", {"run_id": run_id}))
    with django_assert_max_num_queries(12):
        response = send(ingest, *events)
    assert statuses(response).count(201) == 900
    assert Run.objects.filter(step_count=8, total_tokens=8, status="completed").count() == 100
    assert RunStep.objects.filter(parent__isnull=False).count() == 700
