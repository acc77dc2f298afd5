"""Judge a new or edited test against the last runs it targets at once, off the request path, with
its progress polled by the page."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.core.errors import ApplicationError
from apps.testing import services
from apps.testing.models import TestBackfill, TestRun

STRICT = [{"path": "output.answer", "op": "equals", "value": 42}]


def backfill_url(test) -> str:
    return f"/tests/{test.pk}/backfill"


def test_it_judges_the_last_runs_the_test_targets(make_test, make_run, django_capture_on_commit_callbacks):
    runs = [make_run(output={"answer": 42} if n % 2 else {"answer": 1}) for n in range(6)]
    make_run(agent_name="another-bot")  # not targeted
    make_run(status="running")  # not finished
    test = make_test(assertions=STRICT)
    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend: judged after the commit
        backfill = services.test_backfill_start(test=test, count=10)
    assert sorted(backfill.run_ids) == sorted(str(run.pk) for run in runs)
    backfill.refresh_from_db()
    assert (backfill.status, backfill.done, backfill.passed, backfill.failed) == ("done", 6, 3, 3)
    assert TestRun.objects.filter(test=test).count() == 6


def test_it_takes_the_newest_runs_first(make_test, make_run):
    from datetime import timedelta

    from apps.runs.tests.conftest import T0

    runs = [make_run(started_at=T0 + timedelta(minutes=n)) for n in range(4)]
    backfill = services.test_backfill_start(test=make_test(), count=10)
    assert backfill.run_ids == [str(run.pk) for run in reversed(runs)]


def test_it_refuses_a_size_it_does_not_offer_and_a_test_with_nothing_to_judge(make_test, make_run):
    test = make_test()
    with pytest.raises(ApplicationError) as refused:
        services.test_backfill_start(test=test, count=10)
    assert refused.value.status == 409
    make_run()
    with pytest.raises(ApplicationError) as refused:
        services.test_backfill_start(test=test, count=7)
    assert "count" in refused.value.errors


class TestPages:
    def test_it_starts_from_the_tests_page_and_shows_its_progress(
        self, client_alice, make_test, make_run, django_capture_on_commit_callbacks
    ):
        test = make_test(assertions=STRICT)
        for _ in range(3):
            make_run(output={"answer": 1})
        with django_capture_on_commit_callbacks(execute=True):
            started = client_alice.post(backfill_url(test), {"count": "10"}, headers={"HX-Request": "true"})
        assert "Judging 0 of 3 runs" in started.content.decode()  # what the form turns into, polling
        backfill = TestBackfill.objects.get()
        progress = client_alice.get(f"/tests/{test.pk}/backfills/{backfill.pk}", headers={"HX-Request": "true"})
        assert "Judged 3 runs" in progress.content.decode() and 'data-backfill="done"' in progress.content.decode()
        assert "backfill-done" in progress["HX-Trigger"] and "3 failed" in progress["HX-Trigger"]

    def test_a_test_with_nothing_to_judge_says_so(self, client_alice, make_test):
        test = make_test()
        html = client_alice.post(backfill_url(test), {"count": "25"}, headers={"HX-Request": "true"}).content.decode()
        assert "No finished run of agent &#x27;support-bot&#x27; to judge yet." in html

    def test_it_checks_ownership(self, client, bob, make_test, make_run):
        test = make_test()
        make_run()
        client.force_login(bob)
        assert client.post(backfill_url(test), {"count": "10"}).status_code == 404
        backfill = services.test_backfill_start(test=test, count=10)
        assert client.get(f"/tests/{test.pk}/backfills/{backfill.pk}").status_code == 404

    def test_it_requires_login(self, client, make_test):
        response = client.post(backfill_url(make_test()), {"count": "10"})
        assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db(transaction=True)  # the worker opens and closes connections of its own
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_off_the_request_path_the_page_polls_until_the_worker_is_done(client_alice, make_test, make_run):
    test = make_test(assertions=STRICT)
    for answer in (42, 1):
        make_run(output={"answer": answer})
    html = client_alice.post(backfill_url(test), {"count": "10"}, headers={"HX-Request": "true"}).content.decode()
    backfill = TestBackfill.objects.get()
    assert "Judging 0 of 2 runs" in html and 'hx-trigger="every 1s"' in html  # queued: the page polls
    assert not TestRun.objects.exists()
    progress_url = f"/tests/{test.pk}/backfills/{backfill.pk}"
    assert "HX-Trigger" not in client_alice.get(progress_url, headers={"HX-Request": "true"})
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    done = client_alice.get(progress_url, headers={"HX-Request": "true"})
    assert "Judged 2 runs" in done.content.decode() and "every 1s" not in done.content.decode()
    assert "1 passed, 1 failed" in done["HX-Trigger"]


class TestApi:
    def test_it_starts_a_backfill_and_serves_its_progress(
        self, api, make_test, make_run, django_capture_on_commit_callbacks
    ):
        test = make_test(assertions=STRICT)
        make_run(output={"answer": 42})
        with django_capture_on_commit_callbacks(execute=True):
            started = api.post(f"/api/tests/{test.pk}/backfill", {"count": 10}, format="json")
        assert started.status_code == 202 and started.json()["total"] == 1
        progress = api.get(f"/api/tests/{test.pk}/backfills/{started.json()['id']}").json()
        assert (progress["status"], progress["done"], progress["passed"]) == ("done", 1, 1)

    def test_it_refuses_what_it_cannot_do(self, api, make_test, make_run):
        test = make_test()
        assert api.post(f"/api/tests/{test.pk}/backfill", {"count": 10}, format="json").status_code == 409
        make_run()
        refused = api.post(f"/api/tests/{test.pk}/backfill", {"count": 3}, format="json")
        assert refused.status_code == 400 and "count" in refused.json()["errors"]

    def test_it_checks_ownership(self, api, bob_project):
        from apps.testing.services import test_create

        bobs = test_create(
            project=bob_project,
            name="b",
            test_type="custom",
            config={"target": {"agent_name": "x"}, "expression": "run"},
        )
        assert api.post(f"/api/tests/{bobs.pk}/backfill", {"count": 10}, format="json").status_code == 404
