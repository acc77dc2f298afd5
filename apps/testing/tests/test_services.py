"""Evaluation through the services: verdicts, skips, errors, and auto-evaluation when a run ends."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.runs.models import RunStep
from apps.testing import services
from apps.testing.models import Test, TestRun

pytestmark = pytest.mark.django_db


class TestEvaluate:
    def test_a_good_run_passes(self, assertion_test, demo_run):
        test_run = services.test_evaluate(test=assertion_test, run=demo_run)
        assert test_run.status == "passed"
        assert test_run.run == demo_run and test_run.duration_ms >= 0
        assert [c["passed"] for c in test_run.result["checks"]] == [True, True, True, True]
        assert test_run.result["summary"] == "4 of 4 check(s) passed"
        assert test_run.error is None

    def test_a_bad_run_fails_and_says_why(self, assertion_test, make_run):
        run = make_run(output={"answer": "41"}, duration_ms=9000)
        test_run = services.test_evaluate(test=assertion_test, run=run)
        assert test_run.status == "failed"
        messages = [c["message"] for c in test_run.result["checks"] if not c["passed"]]
        assert messages == ['expected output.answer to equal "42", got "41"', "latency_ms is 9000, expected < 5000"]
        assert test_run.result["summary"].startswith("2 of 4 check(s) passed; first failure: expected output.answer")

    def test_a_run_of_another_agent_is_skipped(self, assertion_test, make_run):
        test_run = services.test_evaluate(test=assertion_test, run=make_run(agent_name="sales-bot"))
        assert test_run.status == "skipped"
        assert test_run.result["summary"] == "the run is of agent 'sales-bot'; this test targets 'support-bot'"

    def test_metadata_must_match(self, make_test, make_run):
        test = make_test(target={"agent_name": "support-bot", "metadata": {"env": "staging"}})
        assert services.test_evaluate(test=test, run=make_run()).status == "skipped"
        assert services.test_evaluate(test=test, run=make_run(metadata={"env": "staging", "v": 2})).status == "passed"

    def test_a_running_run_is_skipped(self, assertion_test, make_run):
        test_run = services.test_evaluate(test=assertion_test, run=make_run(status="running"))
        assert test_run.status == "skipped" and "still running" in test_run.result["summary"]

    def test_a_timed_out_regex_is_an_error_not_a_crash(self, make_test, make_run):
        test = make_test(assertions=[{"path": "output.text", "op": "matches", "value": "(a|aa)+$"}])
        test_run = services.test_evaluate(test=test, run=make_run(output={"text": "a" * 5000 + "b"}))
        assert test_run.status == "error"
        assert "was stopped" in test_run.error["message"] and "simplify it" in test_run.result["summary"]

    def test_a_config_broken_behind_our_back_is_an_error(self, assertion_test, demo_run):
        Test.objects.filter(pk=assertion_test.pk).update(config={"target": {"agent_name": "support-bot"}})
        assertion_test.refresh_from_db()
        test_run = services.test_evaluate(test=assertion_test, run=demo_run)
        assert test_run.status == "error"
        assert test_run.error["message"].startswith("the test's config is not valid: config.assertions")

    def test_a_custom_expression_failing_at_run_time_is_an_error(self, make_test, demo_run):
        test = make_test(test_type="custom", expression="length(run.duration_ms)")
        test_run = services.test_evaluate(test=test, run=demo_run)
        assert test_run.status == "error" and "the expression failed on this run" in test_run.error["message"]

    def test_a_comparison_with_a_baseline(self, make_test, make_run):
        baseline = make_run(output={"answer": "42", "id": "run-1"})
        test = make_test(
            test_type="comparison", method="json_equal", baseline_run_id=str(baseline.pk), ignore_keys=["id"]
        )
        assert (
            services.test_evaluate(test=test, run=make_run(output={"answer": "42", "id": "run-2"})).status == "passed"
        )
        failed = services.test_evaluate(test=test, run=make_run(output={"answer": "7", "id": "run-3"}))
        assert failed.status == "failed" and failed.result["checks"][0]["diff"] == [
            'output.answer: expected "42", got "7"'
        ]
        baseline.delete()
        gone = services.test_evaluate(test=test, run=make_run())
        assert gone.status == "error" and "baseline_run_id" in gone.error["message"]

    def test_a_step_sequence_against_expected(self, make_test, demo_run):
        expected = ["llm_call:plan", "tool_call:search", "tool_call:calculator", "llm_call:answer"]
        test = make_test(test_type="comparison", method="step_sequence", expected=expected)
        assert services.test_evaluate(test=test, run=demo_run).status == "passed"
        services.test_update(test=test, data={"config": {**test.config, "expected": expected[::-1]}})
        failed = services.test_evaluate(test=test, run=demo_run)
        assert failed.status == "failed" and failed.result["checks"][0]["diff"][0] == "--- expected"

    def test_another_projects_run_is_refused(self, assertion_test, make_run, bob_project):
        with pytest.raises(ApplicationError):
            services.test_evaluate(test=assertion_test, run=make_run(project=bob_project))


class TestExecute:
    def test_it_uses_the_given_run(self, assertion_test, make_run):
        chosen = make_run(output={"answer": "41"})
        make_run()
        assert services.test_execute(test=assertion_test, run_id=chosen.pk).run == chosen

    def test_it_uses_the_latest_finished_matching_run(self, assertion_test, make_run):
        now = timezone.now()
        make_run(started_at=now.replace(year=2020))
        latest = make_run(started_at=now - timezone.timedelta(minutes=5))
        make_run(status="running", started_at=now)
        make_run(agent_name="other", started_at=now)
        assert services.test_execute(test=assertion_test).run == latest

    def test_without_any_run_it_is_a_409(self, assertion_test, make_run):
        make_run(agent_name="other")
        make_run(status="running")
        with pytest.raises(ApplicationError) as caught:
            services.test_execute(test=assertion_test)
        assert caught.value.status == 409 and "No finished run of agent 'support-bot'" in caught.value.detail


class TestToggle:
    def test_it_flips_or_sets(self, assertion_test):
        assert services.test_toggle(test=assertion_test).enabled is False
        assert services.test_toggle(test=assertion_test).enabled is True
        assert services.test_toggle(test=assertion_test, enabled=True).enabled is True


def end_run(run, *, status="completed"):
    """What the ingest service does when a run ends."""
    run.status = status
    run.ended_at = timezone.now()
    run.save(update_fields=["status", "ended_at"])
    return services.tests_schedule_for_run(run=run)


class TestAutoEvaluation:
    def test_a_run_that_ends_is_judged_by_every_enabled_test_targeting_it(
        self, make_test, make_run, django_capture_on_commit_callbacks
    ):
        judges = make_test(name="judges")
        also = make_test(name="also judges", test_type="custom", expression="run.output.answer == '42'")
        make_test(name="disabled").__class__.objects.filter(name="disabled").update(enabled=False)
        make_test(name="other agent", target={"agent_name": "sales-bot"})
        make_test(name="other env", target={"agent_name": "support-bot", "metadata": {"env": "staging"}})
        run = make_run(status="running")
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            assert end_run(run) is True
            assert not TestRun.objects.exists()  # nothing happens before the commit
        assert len(callbacks) == 1
        verdicts = {t.test.name: t.status for t in TestRun.objects.filter(run=run)}
        assert verdicts == {judges.name: "passed", also.name: "passed"}

    def test_nothing_is_scheduled_when_no_test_targets_the_run(
        self, make_test, make_run, django_capture_on_commit_callbacks
    ):
        make_test(target={"agent_name": "sales-bot"})
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert end_run(make_run(status="running")) is False
        assert callbacks == [] and not TestRun.objects.exists()

    def test_a_rolled_back_run_end_judges_nothing(self, assertion_test, make_run, django_capture_on_commit_callbacks):
        run = make_run(status="running")
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            end_run(run)
            raise RuntimeError("ingest failed")
        assert not TestRun.objects.exists()

    def test_a_failed_run_is_judged_too(self, assertion_test, make_run, django_capture_on_commit_callbacks):
        run = make_run(status="running", error={"message": "tool crashed"})
        with django_capture_on_commit_callbacks(execute=True):
            end_run(run, status="failed")
        test_run = TestRun.objects.get(run=run)
        assert test_run.status == "failed"
        assert test_run.result["checks"][3]["message"] == 'the run failed: {"message": "tool crashed"}'

    def test_a_repeated_run_end_does_not_judge_twice(self, assertion_test, demo_run):
        assert len(services.tests_evaluate_run(run_id=demo_run.pk)) == 1
        assert services.tests_evaluate_run(run_id=demo_run.pk) == []
        assert TestRun.objects.filter(run=demo_run).count() == 1

    def test_the_steps_are_loaded_once_for_all_tests(self, make_test, demo_run, django_assert_max_num_queries):
        for index in range(5):
            make_test(name=f"t{index}")
        # run, tests, already-judged, steps, then one insert per test
        with django_assert_max_num_queries(4 + 5):
            assert len(services.tests_evaluate_run(run_id=demo_run.pk)) == 5

    def test_an_unknown_run_is_nothing_to_do(self, assertion_test):
        assert services.tests_evaluate_run(run_id="00000000-0000-0000-0000-000000000000") == []


class TestDatabaseQueue:
    """Production's path: the run end enqueues a task row, and `manage.py db_worker` judges the run."""

    @pytest.mark.django_db(transaction=True)  # the worker opens and closes connections of its own
    @override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
    def test_the_worker_judges_the_queued_run(self, assertion_test, make_run):
        from django_tasks_db.models import DBTaskResult

        run = make_run(status="running")
        RunStep.objects.filter(run=run, name="search").update(error={"message": "rate limited"}, status="failed")
        with transaction.atomic():
            end_run(run)
        assert DBTaskResult.objects.count() == 1
        assert not TestRun.objects.exists()  # queued, not run inline
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        test_run = TestRun.objects.get(run=run)
        assert test_run.status == "failed"
        assert test_run.result["checks"][3]["message"] == "1 error step(s): #1 tool_call:search"
        assert DBTaskResult.objects.get().status == "SUCCESSFUL"
