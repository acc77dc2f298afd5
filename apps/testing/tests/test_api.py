"""/api/tests and /api/test-runs: it works, it requires login, it checks ownership."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.testing import services
from apps.testing.models import Test, TestRun

pytestmark = pytest.mark.django_db
TARGET = {"agent_name": "support-bot"}
CONFIG = {"target": TARGET, "assertions": [{"path": "output.answer", "op": "equals", "value": "42"}]}


@pytest.fixture
def bob_test(bob_project):
    return services.test_create(
        project=bob_project, name="bob's", test_type="custom", config={"target": TARGET, "expression": "run"}
    )


@pytest.fixture
def bob_test_run(bob_test, make_run, bob_project):
    return services.test_evaluate(test=bob_test, run=make_run(project=bob_project))


class TestTestList:
    def test_it_lists_my_tests_with_their_health(self, api, assertion_test, make_test, make_run, bob_test):
        services.test_evaluate(test=assertion_test, run=make_run())
        services.test_evaluate(test=assertion_test, run=make_run(output={"answer": "no"}))
        services.test_evaluate(test=assertion_test, run=make_run(agent_name="other"))
        make_test(name="zz never run")
        response = api.get("/api/tests")
        assert response.status_code == 200
        results = response.json()["results"]
        assert [t["name"] for t in results] == ["answers 42", "zz never run"]
        first, never = results
        assert (first["last_status"], first["run_count"], first["pass_rate"]) == ("skipped", 3, 0.5)
        assert (never["last_status"], never["run_count"], never["pass_rate"]) == (None, 0, None)
        assert first["config"] == assertion_test.config and first["project_id"] == str(assertion_test.project_id)

    def test_it_filters(self, api, make_test, project, alice):
        from apps.projects.services import project_create

        other = project_create(user=alice, name="second")
        make_test(name="a")
        make_test(name="b", test_type="custom", expression="run")
        services.test_toggle(test=make_test(name="c"), enabled=False)
        make_test(name="d", project=other)
        names = lambda query: [t["name"] for t in api.get(f"/api/tests?{query}").json()["results"]]  # noqa: E731
        assert names(f"project_id={project.pk}") == ["a", "b", "c"]
        assert names(f"project_id={other.pk}") == ["d"]
        assert names("test_type=custom") == ["b"]
        assert names("enabled=false") == ["c"]
        assert names("enabled=true&test_type=assertion") == ["a", "d"]
        assert api.get("/api/tests?test_type=fuzz").status_code == 400

    def test_it_paginates(self, api, make_test):
        for index in range(3):
            make_test(name=f"t{index}")
        body = api.get("/api/tests/?page_size=2").json()
        assert body["count"] == 3 and len(body["results"]) == 2 and "page=2" in body["next"]

    def test_it_pins_its_query_count(self, api, make_test, make_run, django_assert_max_num_queries):
        run = make_run()
        for index in range(20):
            services.test_evaluate(test=make_test(name=f"t{index:02}"), run=run)
        # auth (user, revocation check), count, page: the same for 20 tests as for 1
        with django_assert_max_num_queries(4):
            assert len(api.get("/api/tests").json()["results"]) == 20

    def test_it_creates(self, api, project):
        body = {"project_id": str(project.pk), "name": "answers", "test_type": "assertion", "config": CONFIG}
        response = api.post("/api/tests", body, format="json")
        assert response.status_code == 201
        test = Test.objects.get(pk=response.json()["id"])
        assert (test.project, test.config, test.enabled) == (project, CONFIG, True)
        assert response.json()["run_count"] == 0

    def test_create_names_missing_fields(self, api):
        response = api.post("/api/tests", {"name": "x"}, format="json")
        assert response.status_code == 400
        assert {"project_id", "test_type", "config"} <= set(response.json()["errors"])

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.get("/api/tests").status_code == 401
        body = {"project_id": str(project.pk), "name": "x", "test_type": "assertion", "config": CONFIG}
        assert anon_api.post("/api/tests", body, format="json").status_code == 401
        assert not Test.objects.exists()

    def test_it_checks_ownership(self, api, bob_project, bob_test):
        assert api.get("/api/tests").json()["results"] == []
        assert api.get(f"/api/tests?project_id={bob_project.pk}").status_code == 404
        body = {"project_id": str(bob_project.pk), "name": "x", "test_type": "assertion", "config": CONFIG}
        assert api.post("/api/tests", body, format="json").status_code == 404
        assert Test.objects.filter(project=bob_project).count() == 1

    def test_the_session_works_too(self, client_alice, assertion_test):
        assert client_alice.get("/api/tests").json()["count"] == 1


class TestTestDetail:
    def test_it_works(self, api, assertion_test):
        body = api.get(f"/api/tests/{assertion_test.pk}").json()
        assert (body["name"], body["test_type"], body["run_count"]) == ("answers 42", "assertion", 0)

    def test_it_updates(self, api, assertion_test):
        config = {"target": TARGET, "expression": "run.output"}
        response = api.patch(
            f"/api/tests/{assertion_test.pk}/", {"test_type": "custom", "config": config, "name": "n"}, format="json"
        )
        assert response.status_code == 200
        assertion_test.refresh_from_db()
        assert (assertion_test.name, assertion_test.test_type, assertion_test.config) == ("n", "custom", config)
        assert (
            api.patch(f"/api/tests/{assertion_test.pk}", {"enabled": False}, format="json").json()["enabled"] is False
        )

    def test_it_deletes_with_its_history(self, api, assertion_test, demo_run):
        services.test_evaluate(test=assertion_test, run=demo_run)
        assert api.delete(f"/api/tests/{assertion_test.pk}").status_code == 204
        assert not Test.objects.exists() and not TestRun.objects.exists()

    def test_it_requires_login(self, anon_api, assertion_test):
        url = f"/api/tests/{assertion_test.pk}"
        assert anon_api.get(url).status_code == 401
        assert anon_api.patch(url, {"name": "x"}, format="json").status_code == 401
        assert anon_api.delete(url).status_code == 401

    def test_it_checks_ownership(self, api, bob_test):
        url = f"/api/tests/{bob_test.pk}"
        assert api.get(url).status_code == 404
        assert api.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert api.delete(url).status_code == 404
        bob_test.refresh_from_db()
        assert bob_test.name == "bob's"
        assert api.get(f"/api/tests/{uuid.uuid4()}").json() == {"detail": "Not found.", "errors": {}}


class TestRunNow:
    def test_it_evaluates_a_given_run(self, api, assertion_test, make_run):
        run = make_run(output={"answer": "41"})
        make_run()
        response = api.post(f"/api/tests/{assertion_test.pk}/run", {"run_id": str(run.pk)}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert (body["run_id"], body["test_id"], body["status"]) == (str(run.pk), str(assertion_test.pk), "failed")
        assert body["result"]["checks"][0]["message"] == 'expected output.answer to equal "42", got "41"'
        assert TestRun.objects.get(pk=body["id"]).run == run

    def test_it_evaluates_the_latest_matching_run(self, api, assertion_test, make_run):
        make_run(output={"answer": "old"}, started_at=timezone.now() - timedelta(days=1))
        latest = make_run()
        response = api.post(f"/api/tests/{assertion_test.pk}/run", {}, format="json")
        assert response.status_code == 201
        assert (response.json()["run_id"], response.json()["status"]) == (str(latest.pk), "passed")

    def test_without_a_run_it_answers_409(self, api, assertion_test):
        response = api.post(f"/api/tests/{assertion_test.pk}/run", format="json")
        assert response.status_code == 409
        assert "No finished run of agent 'support-bot'" in response.json()["detail"]
        assert not TestRun.objects.exists()

    def test_a_run_of_another_tenant_is_refused(self, api, assertion_test, make_run, bob_project):
        bobs = make_run(project=bob_project)
        response = api.post(f"/api/tests/{assertion_test.pk}/run", {"run_id": str(bobs.pk)}, format="json")
        assert response.status_code == 400 and "run_id" in response.json()["errors"]
        assert api.post(f"/api/tests/{assertion_test.pk}/run", {"run_id": "nope"}, format="json").status_code == 400

    def test_it_requires_login(self, anon_api, assertion_test, demo_run):
        response = anon_api.post(f"/api/tests/{assertion_test.pk}/run", {"run_id": str(demo_run.pk)}, format="json")
        assert response.status_code == 401 and not TestRun.objects.exists()

    def test_it_checks_ownership(self, api, bob_test, make_run, bob_project):
        run = make_run(project=bob_project)
        assert api.post(f"/api/tests/{bob_test.pk}/run", {"run_id": str(run.pk)}, format="json").status_code == 404
        assert not TestRun.objects.exists()


class TestHistory:
    def test_it_lists_newest_first(self, api, assertion_test, make_run):
        older = services.test_evaluate(test=assertion_test, run=make_run())
        TestRun.objects.filter(pk=older.pk).update(executed_at=timezone.now() - timedelta(hours=1))
        newer = services.test_evaluate(test=assertion_test, run=make_run(output={}))
        body = api.get(f"/api/tests/{assertion_test.pk}/runs").json()
        assert [r["id"] for r in body["results"]] == [str(newer.pk), str(older.pk)]
        assert [r["id"] for r in api.get(f"/api/tests/{assertion_test.pk}/runs?status=passed").json()["results"]] == [
            str(older.pk)
        ]

    def test_it_requires_login(self, anon_api, assertion_test):
        assert anon_api.get(f"/api/tests/{assertion_test.pk}/runs").status_code == 401

    def test_it_checks_ownership(self, api, bob_test, bob_test_run):
        assert api.get(f"/api/tests/{bob_test.pk}/runs").status_code == 404


class TestTestRuns:
    def test_it_lists_and_filters(self, api, assertion_test, make_test, make_run, bob_test_run):
        other = make_test(name="other", test_type="custom", expression="run.output.nothing")
        run_a, run_b = make_run(), make_run()
        a_passed = services.test_evaluate(test=assertion_test, run=run_a)
        b_failed = services.test_evaluate(test=other, run=run_b)
        old = services.test_evaluate(test=assertion_test, run=run_b)
        TestRun.objects.filter(pk=old.pk).update(executed_at=timezone.now() - timedelta(days=3))
        ids = lambda query: {r["id"] for r in api.get(f"/api/test-runs?{query}").json()["results"]}  # noqa: E731
        assert ids("") == {str(a_passed.pk), str(b_failed.pk), str(old.pk)}
        assert ids(f"test_id={other.pk}") == {str(b_failed.pk)}
        assert ids(f"run_id={run_b.pk}") == {str(b_failed.pk), str(old.pk)}
        assert ids("status=failed") == {str(b_failed.pk)}
        since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
        assert ids(f"executed_after={since}") == {str(a_passed.pk), str(b_failed.pk)}
        assert ids(f"executed_before={since}") == {str(old.pk)}
        assert api.get("/api/test-runs?status=great").status_code == 400
        assert api.get("/api/test-runs?run_id=42").status_code == 400

    def test_it_pins_its_query_count(self, api, make_test, make_run, django_assert_max_num_queries):
        test = make_test()
        for _ in range(15):
            services.test_evaluate(test=test, run=make_run())
        with django_assert_max_num_queries(4):
            assert len(api.get("/api/test-runs").json()["results"]) == 15
        with django_assert_max_num_queries(5):
            assert len(api.get(f"/api/tests/{test.pk}/runs").json()["results"]) == 15

    def test_detail_works(self, api, assertion_test, demo_run):
        test_run = services.test_evaluate(test=assertion_test, run=demo_run)
        body = api.get(f"/api/test-runs/{test_run.pk}/").json()
        assert (body["status"], body["run_id"], body["test_name"]) == ("passed", str(demo_run.pk), "answers 42")
        assert len(body["result"]["checks"]) == 4

    def test_it_requires_login(self, anon_api, assertion_test, demo_run):
        test_run = services.test_evaluate(test=assertion_test, run=demo_run)
        assert anon_api.get("/api/test-runs").status_code == 401
        assert anon_api.get(f"/api/test-runs/{test_run.pk}").status_code == 401

    def test_it_checks_ownership(self, api, bob_test_run):
        assert api.get("/api/test-runs").json()["results"] == []
        assert api.get(f"/api/test-runs?test_id={bob_test_run.test_id}").json()["results"] == []
        assert api.get(f"/api/test-runs/{bob_test_run.pk}").status_code == 404
