"""The read-replica router, with the suite's second database ("replica", a second connection to the test
database) standing in for the replica: each kind of request's queries go where they should."""

from contextlib import ExitStack

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import replica
from apps.runs.models import Run
from apps.runs.services import run_create, step_create

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def replica_on(settings):
    settings.READ_REPLICA = "replica"


@pytest.fixture
def run(project):
    run = run_create(project=project, agent_name="bot", started_at=timezone.now())[0]
    step_create(run=run, data={"step_type": "llm_call", "name": "plan", "output": "ok"})
    return run


class Where:
    """The queries each database saw while a request was answered."""

    def __enter__(self):
        self.stack = ExitStack()
        self.seen = {
            alias: self.stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections
        }
        return self

    def __exit__(self, *exc):
        self.stack.close()

    def touching(self, alias: str, table: str) -> int:
        return sum(f'"{table}"' in query["sql"] for query in self.seen[alias].captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/runs",
        "/runs?q=bot",  # search
        "/api/runs",
        "/api/runs?q=bot",
        "/dashboard",
        "/dashboard?period=30d",
    ],
)
def test_lists_search_and_the_dashboard_read_runs_from_the_replica(client_alice, run, url):
    client_alice.get(url)  # the dashboard's first view sums the closed days into the rollup: a write, on the primary
    with Where() as where:
        assert client_alice.get(url).status_code == 200
    assert where.touching("replica", "runs") >= 1
    assert where.touching("default", "runs") == 0


@pytest.mark.parametrize("path", ["/runs/{id}", "/api/runs/{id}", "/api/runs/{id}/steps", "/api/runs/{id}/timeline"])
def test_the_run_page_and_its_apis_read_from_the_replica(client_alice, run, path):
    with Where() as where:
        assert client_alice.get(path.format(id=run.pk)).status_code == 200
    assert where.touching("replica", "run_steps") >= 1
    assert where.touching("default", "run_steps") == 0 and where.touching("default", "runs") == 0


def test_the_stats_api_reads_from_the_replica(client_alice, project, run):
    client_alice.get(f"/api/projects/{project.pk}/stats")  # fills the rollup, on the primary
    with Where() as where:
        assert client_alice.get(f"/api/projects/{project.pk}/stats").status_code == 200
    assert where.touching("replica", "runs") >= 1 and where.touching("default", "runs") == 0


def test_ingest_and_the_pause_protocol_stay_on_the_primary(ingest, run):
    with Where() as where:
        assert (
            ingest.post(f"/api/ingest/run/{run.pk}/step", {"step_type": "tool_call"}, format="json").status_code == 201
        )
        assert ingest.get(f"/api/ingest/run/{run.pk}/control").status_code == 200
    assert where.touching("default", "run_steps") >= 1
    assert len(where.seen["replica"].captured_queries) == 0


def test_writes_go_to_the_primary_and_the_next_reads_too(client_alice, project, run):
    with Where() as where:
        response = client_alice.post(f"/runs/{run.pk}/delete")
    assert response.status_code in (200, 302)
    assert len(where.seen["replica"].captured_queries) == 0
    assert response.cookies[replica.WROTE_COOKIE]["max-age"] == 5
    assert not Run.objects.filter(pk=run.pk).exists()

    with Where() as where:  # the browser sends the cookie back for its 5 seconds: read your writes
        assert client_alice.get("/runs").status_code == 200
    assert len(where.seen["replica"].captured_queries) == 0

    client_alice.cookies.pop(replica.WROTE_COOKIE)  # expired
    with Where() as where:
        client_alice.get("/runs")
    assert where.touching("replica", "runs") >= 1


def test_an_api_delete_reads_its_run_from_the_primary(api, run):
    with Where() as where:
        assert api.delete(f"/api/runs/{run.pk}").status_code == 204
    assert len(where.seen["replica"].captured_queries) == 0


def test_reads_inside_a_transaction_go_to_the_primary(project, run):
    token = replica._reads_from.set("replica")
    try:
        assert Run.objects.db == "replica"
        with transaction.atomic():
            assert Run.objects.db == "default"  # e.g. a rollup fill summing runs under its locks
    finally:
        replica._reads_from.reset(token)


def test_without_a_replica_everything_reads_the_primary(client_alice, run, settings):
    settings.READ_REPLICA = None
    with Where() as where:
        client_alice.get("/runs")
        client_alice.get(f"/runs/{run.pk}")
    assert len(where.seen["replica"].captured_queries) == 0
