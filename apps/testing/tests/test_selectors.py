"""Reads the pages and the dashboard use: health in one query, trends per day, verdicts on a run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.testing import selectors, services
from apps.testing.models import TestRun

pytestmark = pytest.mark.django_db


def judged(test, run, *, status, days_ago=0):
    """A TestRun with a chosen status and day, as if evaluated then."""
    test_run = services.test_evaluate(test=test, run=run)
    TestRun.objects.filter(pk=test_run.pk).update(status=status, executed_at=timezone.now() - timedelta(days=days_ago))
    return test_run


class TestTestsForProject:
    def test_it_annotates_health_in_one_query(self, project, make_test, demo_run, django_assert_num_queries):
        for index in range(10):
            test = make_test(name=f"t{index}")
            judged(test, demo_run, status="failed", days_ago=1)
            judged(test, demo_run, status="passed")
        with django_assert_num_queries(1):
            tests = list(selectors.tests_for_project(project=project))
            summary = [(t.last_status, t.run_count, t.pass_rate) for t in tests]
        assert summary == [("passed", 2, 0.5)] * 10

    def test_it_is_scoped(self, project, bob_project, make_test):
        make_test(name="mine")
        make_test(name="bob's", project=bob_project)
        assert [t.name for t in selectors.tests_for_project(project=project)] == ["mine"]


class TestRunVerdicts:
    def test_a_runs_page_lists_the_tests_that_judged_it(self, make_test, demo_run, make_run, django_assert_num_queries):
        first, second = make_test(name="first"), make_test(name="second")
        services.test_evaluate(test=first, run=demo_run)
        services.test_evaluate(test=second, run=demo_run)
        services.test_evaluate(test=first, run=make_run())
        with django_assert_num_queries(1):
            verdicts = [(t.test.name, t.status) for t in selectors.test_runs_for_run(run=demo_run)]
        assert sorted(verdicts) == [("first", "passed"), ("second", "passed")]


class TestTrends:
    def test_a_tests_trend_counts_per_day(self, assertion_test, make_test, demo_run):
        judged(assertion_test, demo_run, status="passed", days_ago=2)
        judged(assertion_test, demo_run, status="failed", days_ago=2)
        judged(assertion_test, demo_run, status="error", days_ago=0)
        judged(assertion_test, demo_run, status="skipped", days_ago=0)
        judged(assertion_test, demo_run, status="passed", days_ago=40)
        judged(make_test(name="other"), demo_run, status="failed", days_ago=0)
        trend = selectors.test_trend(test=assertion_test, days=7)
        today = timezone.now().date()
        assert len(trend) == 7 and trend[-1]["date"] == today.isoformat()
        assert trend[-3] == {
            "date": (today - timedelta(days=2)).isoformat(),
            "passed": 1,
            "failed": 1,
            "error": 0,
            "pass_rate": 0.5,
        }
        assert trend[-1] == {"date": today.isoformat(), "passed": 0, "failed": 0, "error": 1, "pass_rate": 0.0}
        assert trend[0]["pass_rate"] is None

    def test_a_projects_trend_adds_up_its_tests(self, assertion_test, make_test, demo_run, bob_project, make_run):
        judged(assertion_test, demo_run, status="passed")
        judged(make_test(name="other"), demo_run, status="failed")
        bob_test = services.test_create(
            project=bob_project,
            name="b",
            test_type="custom",
            config={"target": {"agent_name": "support-bot"}, "expression": "run"},
        )
        judged(bob_test, make_run(project=bob_project), status="passed")
        today = selectors.project_test_trend(project=assertion_test.project, days=30)[-1]
        assert (today["passed"], today["failed"], today["pass_rate"]) == (1, 1, 0.5)


class TestHealth:
    def test_it_counts_a_period(self, assertion_test, demo_run):
        for status, days_ago in [
            ("passed", 0),
            ("passed", 1),
            ("failed", 1),
            ("error", 2),
            ("skipped", 0),
            ("failed", 10),
        ]:
            judged(assertion_test, demo_run, status=status, days_ago=days_ago)
        week = selectors.test_health(project=assertion_test.project, since=timezone.now() - timedelta(days=7))
        assert week == {"passed": 2, "failed": 1, "error": 1, "skipped": 1, "total": 5, "pass_rate": 0.5}
        until = selectors.test_health(project=assertion_test.project, until=timezone.now() - timedelta(days=5))
        assert (until["failed"], until["total"]) == (1, 1)

    def test_no_runs_has_no_rate(self, project):
        assert selectors.test_health(project=project)["pass_rate"] is None
