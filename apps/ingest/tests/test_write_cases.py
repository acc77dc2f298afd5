"""One table of cases (good and bad events, retries), sent through the single endpoints and through
the batch: both must store the same rows and give the same answers (status, and the error's shape).

Each case runs twice from the same stored state: once as single posts, once as one batch; the first
is rolled back before the second. The clock is fixed, so what defaults to "now" is the same both times.
"""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.runs.models import Run, RunStep
from apps.runs.services import run_create, step_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 12, 0, 0, tzinfo=UTC)
T0 = NOW - timedelta(minutes=10)
RUN, OTHER, NEW, STEP, CHILD, PARENT = (str(uuid.uuid4()) for _ in range(6))


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


CASES = {
    "runs are created once, by id or by external id": [
        ("run.create", {"id": NEW, "agent_name": "bot", "external_id": "job-1", "started_at": at(0), "input": [1]}),
        ("run.create", {"id": NEW, "agent_name": "other name"}),
        ("run.create", {"agent_name": "bot", "external_id": "job-1"}),
        ("run.create", {"agent_name": "no id, no external id", "started_at": at(5)}),
    ],
    "another project's run id is taken": [
        ("run.create", {"id": "{bob_run}", "agent_name": "thief"}),
    ],
    "a run is updated, ended, and ended again": [
        ("run.update", {"run_id": RUN, "metadata": {"tier": "pro"}, "output": {"partial": True}}),
        ("run.update", {"run_id": RUN, "metadata": None}),
        ("run.end", {"run_id": RUN, "error": {"message": "boom"}, "ended_at": at(30)}),
        ("run.end", {"run_id": RUN, "output": "late"}),
        ("run.update", {"run_id": RUN, "status": "completed"}),
    ],
    "a finished status ends the run now": [
        ("run.update", {"run_id": RUN, "status": "failed", "error": "x"}),
    ],
    "steps get gap-free indexes, an index given is kept, a taken one is a 409": [
        ("step.create", {"run_id": RUN, "step_type": "llm_call", "name": "plan", "tokens_used": 5}),
        ("step.create", {"run_id": RUN, "step_type": "tool_call", "output": [1], "step_index": 7}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "output": 1}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "output": 2, "step_index": 7}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "output": 3, "step_index": 3}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "output": 4, "step_index": 0}),
    ],
    "a client step id makes a retry a no-op; another run's id is a 409": [
        ("step.create", {"run_id": RUN, "id": STEP, "step_type": "llm_call", "input": {"q": 1}, "tokens_used": 3}),
        ("step.create", {"run_id": RUN, "id": STEP, "step_type": "llm_call", "output": "changed", "tokens_used": 9}),
        ("step.create", {"run_id": RUN, "id": "{stored_step}", "step_type": "custom"}),
    ],
    "a parent must be a step of the run": [
        ("step.create", {"run_id": RUN, "id": PARENT, "step_type": "custom", "started_at": at(1)}),
        ("step.create", {"run_id": RUN, "id": CHILD, "parent_id": PARENT, "step_type": "tool_call", "output": 1}),
        ("step.create", {"run_id": RUN, "parent_id": "{stored_step}", "step_type": "custom"}),
        ("step.create", {"run_id": RUN, "parent_id": str(uuid.uuid4()), "step_type": "custom"}),
    ],
    "a step is completed, and completing it again changes nothing": [
        ("step.create", {"run_id": RUN, "id": STEP, "step_type": "tool_call", "input": {}, "started_at": at(2)}),
        ("step.update", {"run_id": RUN, "id": STEP, "output": {"a": 1}, "tokens_used": 40, "error": {"m": "x"}}),
        ("step.update", {"run_id": RUN, "id": STEP, "output": {"a": 1}, "tokens_used": 40, "error": {"m": "x"}}),
        ("step.update", {"run_id": RUN, "id": STEP, "error": None, "status": "completed", "metadata": {"k": 1}}),
    ],
    "ended steps move a live run's duration; late steps leave an ended one's": [
        ("step.create", {"run_id": RUN, "step_type": "llm_call", "started_at": at(1), "ended_at": at(3)}),
        ("step.create", {"run_id": RUN, "step_type": "llm_call", "started_at": at(1), "ended_at": at(2)}),
        ("run.end", {"run_id": RUN, "ended_at": at(20)}),
        ("step.create", {"run_id": RUN, "step_type": "error", "name": "late", "ended_at": at(99)}),
    ],
    "unknown runs and steps are 404, whoever owns them": [
        ("step.create", {"run_id": str(uuid.uuid4()), "step_type": "custom"}),
        ("step.create", {"run_id": "{bob_run}", "step_type": "custom"}),
        ("run.end", {"run_id": "{bob_run}"}),
        ("run.update", {"run_id": str(uuid.uuid4()), "status": "paused"}),
        ("step.update", {"run_id": RUN, "id": str(uuid.uuid4()), "output": 1}),
        ("step.update", {"run_id": RUN, "id": "{stored_step}", "output": 1}),
    ],
    "bad input is a 400 that names the field, and loses nothing": [
        ("step.create", {"run_id": RUN, "step_type": "bogus"}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "tokens_used": -1}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "id": "not-a-uuid"}),
        ("run.update", {"run_id": RUN, "status": "exploded"}),
        ("run.create", {"input": 1}),
        ("step.create", {"run_id": RUN, "step_type": "custom", "output": "still stored"}),
    ],
}

SINGLE = {
    "run.create": ("post", "/api/ingest/run"),
    "run.update": ("patch", "/api/ingest/run/{run_id}"),
    "run.end": ("post", "/api/ingest/run/{run_id}/end"),
    "step.create": ("post", "/api/ingest/run/{run_id}/step"),
    "step.update": ("patch", "/api/ingest/run/{run_id}/step/{id}"),
}


@pytest.fixture
def start(project, bob_project, monkeypatch):
    """The state every case starts from: a run of alice's, one of bob's, a step of another run of alice's."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    run_create(project=project, id=uuid.UUID(RUN), agent_name="support-bot", started_at=T0)
    other = run_create(project=project, agent_name="other", started_at=T0)[0]
    step = step_create(run=other, data={"step_type": "custom", "output": "kept"})[0]
    bob_run = run_create(project=bob_project, agent_name="bobs-bot", started_at=T0)[0]
    return {"bob_run": str(bob_run.id), "stored_step": str(step.id)}


def filled(events, names):
    return [
        (kind, {k: v.format(**names) if isinstance(v, str) else v for k, v in body.items()}) for kind, body in events
    ]


def through_single(client, events) -> list[tuple]:
    answers = []
    for kind, body in events:
        method, url = SINGLE[kind]
        url = url.format(run_id=body.get("run_id"), id=body.get("id"))
        sent = {k: v for k, v in body.items() if k != "run_id" and not (kind == "step.update" and k == "id")}
        response = getattr(client, method)(url, sent, format="json")
        answer = response.json()
        answers.append((response.status_code, answer["id"] if response.status_code < 400 else answer))
    return answers


def through_batch(client, events) -> list[tuple]:
    response = client.post("/api/ingest/batch", {"events": [{"type": k, "body": b} for k, b in events]}, format="json")
    assert response.status_code == 207
    return [(r["status"], r["id"] if r["status"] < 400 else r["error"]) for r in response.json()["results"]]


def stored(project, answers: list[tuple]) -> tuple[dict, list[tuple]]:
    """Every run and step of the project, and the answers, with the ids the server made replaced by
    keys that don't depend on them (a run's external id or name, a step's run and index)."""
    runs = {run.pk: run for run in Run.objects.filter(project=project)}
    keys = {pk: run.external_id or (str(pk) if str(pk) in (RUN, NEW) else run.agent_name) for pk, run in runs.items()}
    steps = list(RunStep.objects.filter(run__project=project))
    keys.update({step.pk: (keys[step.run_id], step.step_index) for step in steps})

    def values(obj):
        row = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname != "id"}
        return {name: keys.get(value, value) if isinstance(value, uuid.UUID) else value for name, value in row.items()}

    rows = {
        "runs": {keys[pk]: values(run) for pk, run in runs.items()},
        "steps": {keys[s.pk]: values(s) for s in steps},
    }
    named = [(status, keys.get(uuid.UUID(answer), answer) if status < 400 else answer) for status, answer in answers]
    return rows, named


class Undo(Exception):
    pass


@pytest.mark.parametrize("case", list(CASES))
def test_single_posts_and_a_batch_store_and_answer_the_same(ingest, project, start, case):
    events = filled(CASES[case], start)
    before, _ = stored(project, [])
    try:
        with transaction.atomic():
            single_rows, single = stored(project, through_single(ingest, events))
            raise Undo
    except Undo:
        pass
    assert stored(project, [])[0] == before  # rolled back
    batch_rows, batch = stored(project, through_batch(ingest, events))
    assert single == batch
    assert single_rows == batch_rows


def test_the_table_covers_every_answer(ingest, project, start):
    """The cases exercise each answer at least once, so the comparison above compares something."""
    seen = set()
    for case in CASES.values():
        try:
            with transaction.atomic():
                seen.update(status for status, _ in through_single(ingest, filled(case, start)))
                raise Undo
        except Undo:
            pass
    assert seen == {200, 201, 400, 404, 409}


# Races: concurrent writers through both paths (PostgreSQL; SQLite serialises writers) -------------


def concurrently(count: int, work) -> list:
    answers, barrier = [], threading.Barrier(count)

    def one(n):
        try:
            barrier.wait()
            answers.append(work(n))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def key_client(raw) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AGENTSCOPE_KEY=raw)
    return client


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock matters on PostgreSQL")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_single_posts_and_batches_share_one_gap_free_sequence(api_key, project):
    run = run_create(project=project, agent_name="parallel")[0]
    step = {"step_type": "tool_call", "output": 1, "tokens_used": 1}

    def post(n):
        client = key_client(api_key[1])
        if n % 2:
            return [client.post(f"/api/ingest/run/{run.id}/step", step, format="json").status_code]
        events = [{"type": "step.create", "body": {"run_id": str(run.id), **step}}] * 5
        return [
            r["status"] for r in client.post("/api/ingest/batch", {"events": events}, format="json").json()["results"]
        ]

    statuses = [status for answer in concurrently(20, post) for status in answer]
    assert statuses == [201] * 60
    assert sorted(RunStep.objects.filter(run=run).values_list("step_index", flat=True)) == list(range(60))
    run.refresh_from_db()
    assert (run.step_count, run.total_tokens, run.next_step_index) == (60, 60, 60)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
def test_the_same_ids_sent_at_once_make_one_row(api_key, project):
    run_id, step_id = str(uuid.uuid4()), str(uuid.uuid4())

    def post(n):
        client = key_client(api_key[1])
        run = {"id": run_id, "agent_name": "racer"}
        step = {"id": step_id, "step_type": "custom", "tokens_used": 2}
        if n % 2:
            made = client.post("/api/ingest/run", run, format="json").status_code
            return made, client.post(f"/api/ingest/run/{run_id}/step", step, format="json").status_code
        events = [{"type": "run.create", "body": run}, {"type": "step.create", "body": {**step, "run_id": run_id}}]
        results = client.post("/api/ingest/batch", {"events": events}, format="json").json()["results"]
        return tuple(result["status"] for result in results)

    answers = concurrently(10, post)
    assert sorted(made for made, _ in answers) == [200] * 9 + [201]
    assert sorted(step for _, step in answers) == [200] * 9 + [201]
    run = Run.objects.get(pk=run_id)
    assert (run.step_count, run.total_tokens, RunStep.objects.filter(run=run).count()) == (1, 2, 1)
