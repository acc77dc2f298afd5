"""The API-key endpoints `agentscope test` reads: runnable tests and the verdicts on a run."""

import pytest
from rest_framework.test import APIClient

from apps.projects.services import api_key_revoke
from apps.runs.services import run_end
from apps.testing.services import test_create, test_evaluate

pytestmark = pytest.mark.django_db

TARGET = {"agent_name": "support-bot"}
ASSERTIONS = [{"path": "output.answer", "op": "equals", "value": "42"}]


def make_test(project, name, *, enabled=True, **config):
    config = {"target": TARGET, "assertions": ASSERTIONS, **config}
    return test_create(project=project, name=name, test_type="assertion", config=config, enabled=enabled)


@pytest.fixture
def runnable(project):
    return make_test(project, "answers 42", input={"question": "six times seven?"})


@pytest.fixture
def ended_run(project, run):
    return run_end(project=project, run_id=run.id, data={"output": {"answer": "42"}})


def names(response) -> list[str]:
    return [test["name"] for test in response.json()["results"]]


def test_it_lists_the_enabled_tests_with_an_input(ingest, project, bob_project, runnable):
    make_test(project, "a check without input")
    make_test(project, "input is null", input=None)
    make_test(project, "switched off", enabled=False, input={"question": "x"})
    make_test(project, "plain string input", input="hello")
    make_test(bob_project, "bob's", input={"question": "x"})

    response = ingest.get("/api/ingest/tests")

    assert response.status_code == 200
    assert names(response) == ["answers 42", "plain string input"]
    first = response.json()["results"][0]
    assert first == {
        "id": str(runnable.id),
        "name": "answers 42",
        "description": None,
        "test_type": "assertion",
        "project_id": str(project.id),
        "project_name": project.name,
        "agent_name": "support-bot",
        "target": TARGET,
        "input": {"question": "six times seven?"},
    }


def test_it_finds_a_test_by_name(ingest, project, runnable):
    make_test(project, "answers 43", input={"question": "x"})
    assert names(ingest.get("/api/ingest/tests", {"name": "answers 43"})) == ["answers 43"]
    assert names(ingest.get("/api/ingest/tests", {"name": "answers"})) == []


def test_it_pages_the_tests(ingest, project):
    for number in range(3):
        make_test(project, f"test {number}", input=number)
    first = ingest.get("/api/ingest/tests", {"page_size": 2}).json()
    assert (first["count"], len(first["results"]), first["next"] is not None) == (3, 2, True)
    assert names(ingest.get("/api/ingest/tests", {"page_size": 2, "page": 2})) == ["test 2"]


def test_it_lists_the_verdicts_on_a_run(ingest, project, runnable, ended_run):
    other = make_test(project, "answers 41", assertions=[{"path": "output.answer", "op": "equals", "value": "41"}])
    verdict = test_evaluate(test=runnable, run=ended_run)
    test_evaluate(test=other, run=ended_run)

    everything = ingest.get("/api/ingest/test-runs", {"run_id": ended_run.id})
    assert everything.status_code == 200
    assert sorted(test_run["status"] for test_run in everything.json()["results"]) == ["failed", "passed"]

    response = ingest.get("/api/ingest/test-runs", {"run_id": ended_run.id, "test_id": runnable.id})
    [found] = response.json()["results"]
    assert found["id"] == str(verdict.id)
    assert (found["test_id"], found["run_id"], found["status"]) == (str(runnable.id), str(ended_run.id), "passed")
    assert found["result"]["checks"][0]["passed"] is True


def test_a_run_not_yet_judged_has_no_verdicts(ingest, run, runnable):
    response = ingest.get("/api/ingest/test-runs", {"run_id": run.id, "test_id": runnable.id})
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_the_run_is_required(ingest):
    response = ingest.get("/api/ingest/test-runs")
    assert response.status_code == 400
    assert "run_id" in response.json()["errors"]


def test_it_checks_ownership(ingest, bob_ingest, bob_project, bob_run, ended_run, runnable):
    test_evaluate(test=runnable, run=ended_run)
    assert ingest.get("/api/ingest/test-runs", {"run_id": bob_run.id}).status_code == 404
    assert bob_ingest.get("/api/ingest/test-runs", {"run_id": ended_run.id}).status_code == 404
    assert names(bob_ingest.get("/api/ingest/tests")) == []


@pytest.mark.parametrize("url", ["/api/ingest/tests", "/api/ingest/test-runs"])
def test_it_requires_a_key(anon_api, api, url):
    response = anon_api.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-Agentscope-Key"
    assert api.get(url).status_code == 401  # a JWT is not a key


@pytest.mark.parametrize("url", ["/api/ingest/tests", "/api/ingest/test-runs"])
def test_it_refuses_a_bad_or_revoked_key(ingest, api_key, runnable, url):
    wrong = APIClient()
    wrong.credentials(HTTP_X_AGENTSCOPE_KEY="as_wrong")
    assert wrong.get(url).status_code == 401
    api_key_revoke(api_key=api_key[0])
    assert ingest.get(url).status_code == 401


def test_it_answers_with_and_without_a_trailing_slash(ingest, runnable):
    assert names(ingest.get("/api/ingest/tests/")) == ["answers 42"]


def test_the_list_takes_a_fixed_number_of_queries(ingest, project, django_assert_max_num_queries):
    for number in range(10):
        make_test(project, f"test {number}", input=number)
    with django_assert_max_num_queries(5):
        assert len(names(ingest.get("/api/ingest/tests"))) == 10
