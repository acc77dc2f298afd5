"""Reads for tests and test runs, always scoped to what the caller may see."""

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.projects.models import Project
from apps.projects.selectors import project_authorize
from apps.runs.models import Run, RunStatus
from apps.testing.models import Test, TestBackfill, TestRun, TestRunStatus

JUDGED = Q(test_runs__status__in=[TestRunStatus.PASSED, TestRunStatus.FAILED, TestRunStatus.ERROR])
STEP_FIELDS = (
    "id",
    "step_index",
    "step_type",
    "name",
    "input",
    "output",
    "metadata",
    "error",
    "tokens_used",
    "latency_ms",
    "status",
    "started_at",
    "ended_at",
    "parent_id",
)


def _with_health(tests: QuerySet[Test]) -> QuerySet[Test]:
    """Each test with `last_status`, `last_run_at`, `run_count`, `passed_count`, `judged_count`: one query."""
    latest = TestRun.objects.filter(test=OuterRef("pk")).order_by("-executed_at")
    return tests.annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("executed_at")[:1]),
        run_count=Count("test_runs"),
        passed_count=Count("test_runs", filter=Q(test_runs__status=TestRunStatus.PASSED)),
        judged_count=Count("test_runs", filter=JUDGED),
    )


def tests_for_user(*, user, project_id=None, test_type=None, enabled=None) -> QuerySet[Test]:
    tests = Test.objects.filter(project__organization__memberships__user=user)
    return _filtered_tests(tests, project_id=project_id, test_type=test_type, enabled=enabled)


def _filtered_tests(tests, *, project_id=None, test_type=None, enabled=None) -> QuerySet[Test]:
    if project_id is not None:
        tests = tests.filter(project_id=project_id)
    if test_type is not None:
        tests = tests.filter(test_type=test_type)
    if enabled is not None:
        tests = tests.filter(enabled=enabled)
    return _with_health(tests).order_by("name", "id")


def tests_for_project(*, project: Project, test_type=None, enabled=None) -> QuerySet[Test]:
    """The tests page: each test with last status, pass rate (`Test.pass_rate`) and run count."""
    return _filtered_tests(Test.objects.filter(project=project), test_type=test_type, enabled=enabled)


def test_get(*, user, test_id, action: str = "read") -> Test:
    """The user's test with its health numbers, or 404: another tenant's test looks like none at all;
    403 naming the role needed if the user's role can't do `action`."""
    tests = Test.objects.filter(project__organization__memberships__user=user)
    tests = _with_health(tests).annotate(member_role=F("project__organization__memberships__role"))
    test = get_object_or_404(tests.select_related("project"), pk=test_id)
    project_authorize(user=user, project=test.project, action=action, role=test.member_role)
    return test


def test_runs_for_user(
    *, user, project_id=None, test_id=None, run_id=None, status=None, executed_after=None, executed_before=None
) -> QuerySet[TestRun]:
    test_runs = TestRun.objects.filter(test__project__organization__memberships__user=user)
    filters = {
        "test__project_id": project_id,
        "test_id": test_id,
        "run_id": run_id,
        "status": status,
        "executed_at__gte": executed_after,
        "executed_at__lte": executed_before,
    }
    test_runs = test_runs.filter(**{key: value for key, value in filters.items() if value is not None})
    return test_runs.select_related("test").order_by("-executed_at", "-id")


def test_run_get(*, user, test_run_id) -> TestRun:
    return get_object_or_404(
        TestRun.objects.select_related("test"), pk=test_run_id, test__project__organization__memberships__user=user
    )


def test_runs_for_test(*, test: Test, status=None) -> QuerySet[TestRun]:
    """A test's history, newest first."""
    test_runs = test.test_runs.select_related("test")
    if status is not None:
        test_runs = test_runs.filter(status=status)
    return test_runs.order_by("-executed_at", "-id")


def test_runs_for_run(*, run: Run) -> QuerySet[TestRun]:
    """The verdicts on one run (for the run's page), newest first, with their test."""
    return TestRun.objects.filter(run=run).select_related("test").order_by("-executed_at", "-id")


def tests_targeting_run(*, run: Run) -> list[Test]:
    """The enabled tests of the run's project whose target matches it (agent in SQL, metadata here)."""
    if not run.agent_name:
        return []
    candidates = Test.objects.filter(project_id=run.project_id, enabled=True, config__target__agent_name=run.agent_name)
    return [test for test in candidates.select_related("project").order_by("name", "id") if test.targets(run)]


def tests_runnable_for_project(*, project: Project, name: str | None = None) -> QuerySet[Test]:
    """The enabled tests that carry an `input` to run their agent on (`agentscope test`), by name."""
    tests = Test.objects.filter(project=project, enabled=True, config__has_key="input").exclude(config__input=None)
    if name is not None:
        tests = tests.filter(name=name)
    return tests.order_by("name", "id")


def run_latest_for_test(*, test: Test) -> Run | None:
    """The most recent finished run the test targets, for "Run now" without a chosen run."""
    agent_name = test.target.get("agent_name")
    if not agent_name:
        return None
    runs = Run.objects.filter(
        project_id=test.project_id, agent_name=agent_name, status__in=[RunStatus.COMPLETED, RunStatus.FAILED]
    )
    for key, value in (test.target.get("metadata") or {}).items():
        if not key.isdigit():  # a digit key would be read as an array index in SQL
            runs = runs.filter(**{f"metadata__{key}": value})
    # The SQL match on JSON values is loose about booleans vs numbers; the model's rule is exact.
    return next((run for run in runs.order_by("-started_at", "-id")[:20] if test.targets(run)), None)


def runs_for_backfill(*, test: Test, count: int) -> list[Run]:
    """The last `count` finished runs the test targets, newest first."""
    agent_name = test.target.get("agent_name")
    if not agent_name:
        return []
    runs = Run.objects.filter(
        project_id=test.project_id, agent_name=agent_name, status__in=[RunStatus.COMPLETED, RunStatus.FAILED]
    ).only("id", "agent_name", "metadata", "project_id", "status")
    chosen = []
    for run in runs.order_by("-started_at", "-id")[: count * 2].iterator():
        if test.targets(run):  # the target's metadata, exactly (SQL can't be strict about it)
            chosen.append(run)
        if len(chosen) == count:
            break
    return chosen


def backfill_get(*, test: Test, backfill_id) -> TestBackfill:
    """One backfill of a test the caller may see (the test was found for them), else 404."""
    return get_object_or_404(TestBackfill, test=test, pk=backfill_id)


def run_for_evaluation(*, run: Run) -> tuple[dict, list[dict]]:
    """The run and its steps as plain JSON, the input of every evaluator."""
    run_dict = {
        "id": str(run.pk),
        "agent_name": run.agent_name,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "metadata": run.metadata,
        "error": run.error,
        "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at),
        "duration_ms": run.duration_ms,
        "step_count": run.step_count,
        "error_count": run.error_count,
        "total_tokens": run.total_tokens,
        "cost_usd": None if run.cost_usd is None else float(run.cost_usd),
        "unpriced_steps": run.unpriced_steps,
    }
    steps = list(run.steps.order_by("step_index").values(*STEP_FIELDS))
    for step in steps:
        step["id"], step["parent_id"] = str(step["id"]), step["parent_id"] and str(step["parent_id"])
        step["started_at"], step["ended_at"] = _iso(step["started_at"]), _iso(step["ended_at"])
    return run_dict, steps


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def test_trend(*, test: Test, days: int = 30, now=None) -> list[dict]:
    """Per day over the last `days` days: passed, failed, error counts and the pass rate."""
    return _trend(TestRun.objects.filter(test=test), days=days, now=now)


def project_test_trend(*, project: Project, days: int = 30, now=None) -> list[dict]:
    return _trend(TestRun.objects.filter(test__project=project), days=days, now=now)


def _trend(test_runs: QuerySet[TestRun], *, days: int, now) -> list[dict]:
    today = (now or timezone.now()).date()
    first = today - timedelta(days=days - 1)
    rows = (
        test_runs.filter(executed_at__gte=datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone()))
        .annotate(day=TruncDate("executed_at"))
        .values("day")
        .annotate(**_status_counts())
    )
    by_day = {_as_date(row["day"]): row for row in rows}
    trend = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        counts = {status: by_day.get(day, {}).get(status, 0) for status in ("passed", "failed", "error")}
        judged = sum(counts.values())
        trend.append(
            {"date": day.isoformat(), **counts, "pass_rate": round(counts["passed"] / judged, 4) if judged else None}
        )
    return trend


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _status_counts() -> dict:
    return {status: Count("id", filter=Q(status=status)) for status in TestRunStatus.values}


def test_health(*, project: Project, since=None, until=None) -> dict:
    """Passed / failed / error / skipped counts for a project's test runs in [since, until], with the pass rate."""
    test_runs = TestRun.objects.filter(test__project=project)
    if since is not None:
        test_runs = test_runs.filter(executed_at__gte=since)
    if until is not None:
        test_runs = test_runs.filter(executed_at__lte=until)
    counts = test_runs.aggregate(**_status_counts(), total=Count("id"))
    judged = counts["passed"] + counts["failed"] + counts["error"]
    return {**counts, "pass_rate": round(counts["passed"] / judged, 4) if judged else None}


def runs_recent_for_test(*, test: Test, limit: int = 20) -> list[Run]:
    """Recent runs of the test's target agent, newest first: the choices of "Run now"."""
    agent_name = test.target.get("agent_name")
    if not agent_name:
        return []
    return list(
        Run.objects.filter(project_id=test.project_id, agent_name=agent_name).order_by("-started_at", "-id")[:limit]
    )


def runs_recent_for_project(*, project: Project, limit: int = 20) -> list[Run]:
    """A project's latest runs, newest first: the baseline choices of the test editor."""
    return list(Run.objects.filter(project=project).order_by("-started_at", "-id")[:limit])


def agent_names_for_project(*, project: Project, limit: int = 100) -> list[str]:
    names = Run.objects.filter(project=project, agent_name__isnull=False).exclude(agent_name="")
    return list(names.order_by("agent_name").values_list("agent_name", flat=True).distinct()[:limit])


def verdicts_for_run(*, run: Run) -> list[TestRun]:
    """The latest verdict of each test that judged the run, for the run's page."""
    latest = {}
    for test_run in test_runs_for_run(run=run)[:500]:
        latest.setdefault(test_run.test_id, test_run)
    return list(latest.values())


FAILING = (TestRunStatus.FAILED, TestRunStatus.ERROR)


def verdict_counts(*, runs: list[Run]) -> dict:
    """For the runs list: per run, how many tests' latest verdicts failed (or erred) and passed."""
    counts = {}
    seen = set()
    rows = (
        TestRun.objects.filter(run__in=runs).order_by("-executed_at", "-id").values_list("run_id", "test_id", "status")
    )
    for run_id, test_id, status in rows:
        if (run_id, test_id) in seen:
            continue  # an older verdict of the same test on the same run
        seen.add((run_id, test_id))
        count = counts.setdefault(run_id, {"failed": 0, "passed": 0})
        if status in FAILING:
            count["failed"] += 1
        elif status == TestRunStatus.PASSED:
            count["passed"] += 1
    return counts


def runs_with_failed_tests(*, runs: QuerySet[Run], value: str = "failed") -> QuerySet[Run]:
    """The runs some test's latest verdict on them failed or erred."""
    later = TestRun.objects.filter(
        run_id=OuterRef("run_id"), test_id=OuterRef("test_id"), executed_at__gt=OuterRef("executed_at")
    )
    failing = TestRun.objects.filter(run_id=OuterRef("pk"), status__in=FAILING).filter(~Exists(later))
    return runs.filter(Exists(failing))


def runs_failing_test(*, runs: QuerySet[Run], value: str) -> QuerySet[Run]:
    """The runs whose latest verdict of the test `value` (an id) failed or erred.

    Served by test_runs' run index: the list walks its runs newest first and looks up each one's
    verdicts of that test (a run has few), so a page costs its runs' lookups however many verdicts
    the test has."""
    later = TestRun.objects.filter(run_id=OuterRef("run_id"), test_id=value, executed_at__gt=OuterRef("executed_at"))
    failing = TestRun.objects.filter(run_id=OuterRef("pk"), test_id=value, status__in=FAILING).filter(~Exists(later))
    return runs.filter(Exists(failing))


def test_choices(*, project_ids: list) -> tuple[tuple[str, str], ...]:
    """(id, name) of these projects' tests, for the runs list's "failed test" filter."""
    tests = Test.objects.filter(project_id__in=project_ids).order_by("name", "id").values_list("pk", "name")[:200]
    return tuple((str(pk), name) for pk, name in tests)


# Named <entity>_<verb>, the functions of the entity "test" look like tests to pytest wherever they
# are imported; mark them, as the model Test is, so a test module can import them by name.
for _function in [value for name, value in globals().items() if name.startswith("test") and callable(value)]:
    _function.__test__ = False
