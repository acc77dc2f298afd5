"""The protocol across threads and servers: state lives only in the database."""

import threading
import time

import httpx
import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.tokens import tokens_for_user
from apps.breakpoints.models import BreakpointHit
from apps.breakpoints.services import breakpoint_check_step
from apps.runs.models import Run, RunStatus, RunStep

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.breakpoints.tests.urls")]


@pytest.fixture
def paused(run, make_step, make_breakpoint):
    make_breakpoint(name="Before search")
    step = make_step(run)
    return run, step, breakpoint_check_step(run=run, step=step)["hit_id"]


def test_of_people_pressing_at_once_exactly_one_wins(paused, alice):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite shared cache refuses concurrent writers instead of waiting")
    run, _step, hit_id = paused
    token = tokens_for_user(alice)["access"]
    barrier, codes = threading.Barrier(4), []
    actions = [{"action": "continue", "input": {"n": 1}}, {"action": "abort"}, {"action": "skip", "output": {}}]

    def press(body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        try:
            codes.append(client.post(f"/api/runs/{run.id}/resume", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(actions[i % 3],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409, 409, 409]
    hit = BreakpointHit.objects.get(pk=hit_id)
    assert hit.status in ("resumed", "aborted") and hit.resolved_by == alice


def test_an_agent_polling_one_server_is_released_by_a_resume_on_another(paused, api_key, alice, live_server):
    """The agent polls the live server over HTTP with the SDK's backoff; the person resumes
    through a different server (the in-process test client)."""
    run, step, hit_id = paused
    answers = []

    def agent():
        delay, deadline = 0.05, time.monotonic() + 20
        with httpx.Client(base_url=live_server.url, headers={"X-Agentscope-Key": api_key[1]}) as http:
            while time.monotonic() < deadline:
                answer = http.get(f"/api/ingest/run/{run.id}/control", params={"hit_id": hit_id}).json()
                answers.append(answer)
                if answer["action"] != "pause":
                    return
                time.sleep(delay)
                delay = min(delay * 2, 0.4)

    poller = threading.Thread(target=agent)
    poller.start()
    while not answers:
        time.sleep(0.02)
    person = APIClient()
    person.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(alice)['access']}")
    response = person.post(
        f"/api/runs/{run.id}/resume", {"action": "continue", "input": {"query": "Rome"}}, format="json"
    )
    poller.join(timeout=25)
    assert response.status_code == 200
    assert answers[0]["action"] == "pause"
    assert answers[-1] == {"action": "continue", "hit_id": hit_id, "input": {"query": "Rome"}}
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert RunStep.objects.get(pk=step.pk).input == {"query": "Rome"}
