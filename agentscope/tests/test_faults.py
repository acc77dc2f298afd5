"""The database failing under the app as deployed (gunicorn, DEBUG off, the connection pool): a live SDK
agent keeps sending through an outage and loses or duplicates nothing; every answer meanwhile is a
503 with Retry-After; none is an error once the database is back; connections the server ended never
reach a request. The shared PostgreSQL is never stopped: a TCP proxy stands in front of it."""

import threading
import time

import httpx
import pytest
from django.db import connection

from agentscope_sdk import Client
from apps.accounts.tokens import tokens_for_user
from apps.core.tests.servers import AppServer, TcpProxy, database_url, terminate_backends
from apps.runs.models import Run, RunStatus, RunStep

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

STEPS = 60


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool, its checks and the proxy are PostgreSQL's")


@pytest.fixture
def proxy():
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield proxy
    proxy.stop()


@pytest.fixture
def server(proxy, tmp_path):
    """Two gunicorn workers whose every connection (queries, throttle counters) goes through the proxy."""
    env = {"DATABASE_URL": database_url(host="127.0.0.1", port=proxy.port), "DB_POOL_TIMEOUT": "1"}
    server = AppServer(workers=2, env=env, log=tmp_path / "gunicorn.log")
    yield server
    server.stop()


def probes(server, api_key, alice) -> dict[str, httpx.Response]:
    jwt = {"Authorization": f"Bearer {tokens_for_user(alice)['access']}"}
    key = {"X-Agentscope-Key": api_key[1]}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        return {
            "health": http.get("/health"),
            "api": http.get("/api/projects", headers=jwt),
            "ingest": http.post("/api/ingest/run", json={"agent_name": "probe"}, headers=key),
            "breakpoints": http.get("/api/ingest/breakpoints", headers=key),
        }


def test_a_live_agent_sends_through_a_database_outage(server, proxy, api_key, alice, project):
    client = Client(api_key=api_key[1], base_url=server.url, flush_interval=0.05)

    @client.tool_call
    def work(i: int) -> int:
        time.sleep(0.1)
        return i * i

    @client.trace(name="through-the-outage")
    def agent() -> int:
        return sum(work(i) for i in range(STEPS))

    agent_thread = threading.Thread(target=agent)
    agent_thread.start()
    assert wait_for(lambda: RunStep.objects.filter(run__agent_name="through-the-outage").count() >= 10)

    proxy.stop()
    during = probes(server, api_key, alice)
    time.sleep(2)
    proxy.start()

    agent_thread.join(timeout=60)
    assert client.flush(timeout=60)
    client.close(timeout=10)
    after = [probes(server, api_key, alice) for _ in range(5)]

    for name, response in during.items():
        assert response.status_code == 503, name
        assert response.headers["Retry-After"] == "5", name
    assert during["api"].json()["errors"] == {} and "detail" in during["api"].json()
    assert during["health"].json() == {"status": "error", "database": "unavailable"}
    assert [response.status_code for answers in after for response in answers.values()] == [200, 200, 201, 200] * 5

    run = Run.objects.get(agent_name="through-the-outage")
    assert run.status == RunStatus.COMPLETED
    assert run.output == sum(i * i for i in range(STEPS))
    assert list(run.steps.order_by("step_index").values_list("step_index", "output")) == [
        (i, i * i) for i in range(STEPS)
    ]
    assert run.step_count == STEPS
    assert client.stats()["failed"] == 0


def test_connections_the_server_ended_never_reach_a_request(api_key, alice, project, tmp_path):
    """pg_terminate_backend on every connection the workers' pools hold, between requests."""
    server = AppServer(workers=2, log=tmp_path / "gunicorn.log")
    try:
        for _ in range(3):
            assert {response.status_code for response in probes(server, api_key, alice).values()} <= {200, 201}
        assert terminate_backends() >= 2
        codes = [response.status_code for _ in range(10) for response in probes(server, api_key, alice).values()]
    finally:
        server.stop()
    assert codes == [200, 200, 201, 200] * 10


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
