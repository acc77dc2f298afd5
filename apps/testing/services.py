"""Writes for tests, and evaluation: judging runs and recording each verdict as a TestRun.

`tests_schedule_for_run(run=...)` is the one entry point for "a run ended": the ingest service
calls it, and every enabled test targeting the run judges it after the commit, off the request path.
"""

import logging
import time
from uuid import UUID

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.orgs.audit import Actor, audit_record
from apps.projects.models import Project
from apps.runs.models import Run
from apps.testing import selectors
from apps.testing.evaluators import evaluate
from apps.testing.models import BACKFILL_SIZES, BackfillStatus, Test, TestBackfill, TestRun, TestRunStatus
from apps.testing.validation import validate_config

logger = logging.getLogger(__name__)
UPDATABLE = ("name", "description", "test_type", "config", "enabled")


def test_create(
    *,
    project: Project,
    name: str,
    test_type: str,
    config: dict,
    description: str | None = None,
    enabled: bool = True,
    actor: Actor | None = None,
) -> Test:
    config = validate_config(test_type=test_type, config=config, project=project)
    test = Test.objects.create(
        project=project, name=name, description=description, test_type=test_type, config=config, enabled=enabled
    )
    _audit(actor, test, "test.created", {"test_type": test_type, "config": config})
    return test


def _audit(actor, test: Test, action: str, changes: dict | None = None) -> None:
    audit_record(actor=actor, organization_id=test.project.organization_id, action=action, target=test, changes=changes)


def test_update(*, test: Test, data: dict, actor: Actor | None = None) -> Test:
    """Change the given fields; a new type or config is validated as a whole (config is replaced, not merged)."""
    if "test_type" in data or "config" in data:
        validate_config(
            test_type=data.get("test_type", test.test_type),
            config=data.get("config", test.config),
            project=test.project,
        )
    changed = [field for field in UPDATABLE if field in data]
    changes = {field: [getattr(test, field), data[field]] for field in changed if getattr(test, field) != data[field]}
    for field in changed:
        setattr(test, field, data[field])
    if changed:
        test.save(update_fields=[*changed, "updated_at"])
    if changes:
        _audit(actor, test, "test.changed", changes)
    return test


def test_delete(*, test: Test, actor: Actor | None = None) -> None:
    _audit(actor, test, "test.deleted")
    test.delete()


def test_toggle(*, test: Test, enabled: bool | None = None, actor: Actor | None = None) -> Test:
    """Set `enabled`, or flip it when not given."""
    was = test.enabled
    test.enabled = (not test.enabled) if enabled is None else enabled
    test.save(update_fields=["enabled", "updated_at"])
    if was != test.enabled:
        _audit(actor, test, "test.changed", {"enabled": [was, test.enabled]})
    return test


def test_execute(*, test: Test, run_id=None) -> TestRun:
    """Evaluate now ("Run now"): against the given run of the test's project, else the latest one it targets."""
    if run_id is not None:
        run = Run.objects.filter(project_id=test.project_id, pk=run_id).first()
        if run is None:
            raise ApplicationError(
                "No such run in this test's project.", errors={"run_id": ["no run with this id here"]}
            )
    else:
        run = selectors.run_latest_for_test(test=test)
        if run is None:
            agent = test.target.get("agent_name")
            raise ApplicationError(
                f"No finished run of agent {agent!r} matches this test's target yet: "
                "pass a run_id, or record a run of that agent first.",
                status=409,
            )
    return test_evaluate(test=test, run=run)


def test_evaluate(*, test: Test, run: Run, snapshot: tuple[dict, list[dict]] | None = None) -> TestRun:
    """Judge one run with one test and record the verdict. Never raises for a broken evaluation:
    that is a TestRun in `error` with the reason. `snapshot` is the run as evaluators see it, if loaded."""
    if run.project_id != test.project_id:
        raise ApplicationError("The run is not in this test's project.", errors={"run_id": ["not in this project"]})
    started = time.perf_counter()
    status, checks, summary, error = _judge(test, run, snapshot)
    passed = sum(1 for check in checks if check["passed"])
    result = {"checks": checks, "summary": summary, "passed": passed, "total": len(checks)}
    return TestRun.objects.create(
        test=test,
        run=run,
        status=status,
        result=result,
        error=error,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


def _judge(test: Test, run: Run, snapshot) -> tuple[str, list[dict], str, dict | None]:
    if not test.targets(run):
        return TestRunStatus.SKIPPED, [], _not_targeted(test, run), None
    if not run.is_finished:
        return TestRunStatus.SKIPPED, [], f"the run is still {run.status}; it is judged when it ends", None
    try:
        config = validate_config(test_type=test.test_type, config=test.config, project=test.project)
        run_dict, steps = snapshot or selectors.run_for_evaluation(run=run)
        results = evaluate(test.test_type, config, run_dict, steps, baseline=_baseline(test, config))
    except DatabaseError:
        raise
    except ApplicationError as exc:
        reason = f"the test's config is not valid: {exc.detail}"
        return TestRunStatus.ERROR, [], reason, {"message": reason, "errors": exc.errors}
    except Exception as exc:
        logger.warning("test %s on run %s could not be evaluated", test.pk, run.pk, exc_info=True)
        reason = str(exc) or type(exc).__name__
        return TestRunStatus.ERROR, [], reason, {"message": reason, "type": type(exc).__name__}
    checks = [result.as_dict() for result in results]
    failed = [check for check in checks if not check["passed"]]
    status = TestRunStatus.FAILED if failed else TestRunStatus.PASSED
    summary = f"{len(checks) - len(failed)} of {len(checks)} check(s) passed"
    if failed:
        summary += f"; first failure: {failed[0]['message']}"
    return status, checks, summary, None


def _not_targeted(test: Test, run: Run) -> str:
    agent = test.target.get("agent_name")
    if run.agent_name != agent:
        return f"the run is of agent {run.agent_name!r}; this test targets {agent!r}"
    return f"the run's metadata does not hold {test.target.get('metadata')}"


def _baseline(test: Test, config: dict) -> dict | None:
    if "baseline_run_id" not in config:
        return None
    run = Run.objects.get(project_id=test.project_id, pk=config["baseline_run_id"])
    run_dict, steps = selectors.run_for_evaluation(run=run)
    return {"run": run_dict, "steps": steps}


def tests_evaluate_run(*, run_id) -> list[TestRun]:
    """Judge a run with every enabled test that targets it and hasn't judged it yet (so a retried
    run-end doesn't count twice). What the task runs when a run ends."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return []
    tests = selectors.tests_targeting_run(run=run)
    judged = set(
        TestRun.objects.filter(run=run, test__in=tests)
        .exclude(status=TestRunStatus.SKIPPED)
        .values_list("test_id", flat=True)
    )
    pending = [test for test in tests if test.pk not in judged]
    snapshot = selectors.run_for_evaluation(run=run) if pending and run.is_finished else None
    return [test_evaluate(test=test, run=run, snapshot=snapshot) for test in pending]


def tests_schedule_for_run(*, run: Run) -> bool:
    """Call when a run ends. After the transaction commits, the run is queued for evaluation by the
    enabled tests targeting it (apps/testing/tasks.py). False when no test could target it."""
    return bool(tests_schedule_for_runs(runs=[run]))


def tests_schedule_for_runs(*, runs: list[Run]) -> int:
    """`tests_schedule_for_run` for many ended runs (a batch) in one query; how many were queued."""
    finished = [run for run in runs if run.is_finished and run.agent_name]
    if not finished:
        return 0
    targeted = set(
        Test.objects.filter(
            project_id__in={run.project_id for run in finished},
            enabled=True,
            config__target__agent_name__in=sorted({run.agent_name for run in finished}),
        ).values_list("project_id", "config__target__agent_name")
    )
    from apps.testing.tasks import evaluate_run  # the task module imports this one

    queued = [str(run.pk) for run in finished if (run.project_id, run.agent_name) in targeted]
    for run_id in queued:
        transaction.on_commit(lambda run_id=run_id: evaluate_run.enqueue(run_id), robust=True)
    return len(queued)


# Named <entity>_<verb>, the functions of the entity "test" look like tests to pytest wherever they
# are imported; mark them, as the model Test is, so a test module can import them by name.
for _function in [value for name, value in globals().items() if name.startswith("test") and callable(value)]:
    _function.__test__ = False


def test_backfill_start(*, test: Test, count: int) -> TestBackfill:
    """Judge the last `count` runs the test targets, off the request path: the runs are chosen now,
    judged by a task (apps/testing/tasks.py) once this commits. Refused when there is none."""
    if count not in BACKFILL_SIZES:
        raise ApplicationError("Choose how many runs to judge.", errors={"count": [f"one of {BACKFILL_SIZES}"]})
    runs = selectors.runs_for_backfill(test=test, count=count)
    if not runs:
        agent = test.target.get("agent_name")
        raise ApplicationError(f"No finished run of agent {agent!r} to judge yet.", status=409)
    backfill = TestBackfill.objects.create(test=test, run_ids=[str(run.pk) for run in runs])
    from apps.testing.tasks import backfill_test  # the task module imports this one

    transaction.on_commit(lambda: backfill_test.enqueue(str(backfill.pk)))
    return backfill


def test_backfill_run(*, backfill_id) -> TestBackfill | None:
    """What the task does: judge each chosen run (still there), counting as it goes, so the page
    polling the backfill shows it advance."""
    backfill = TestBackfill.objects.select_related("test__project").filter(pk=backfill_id).first()
    if backfill is None or backfill.status == BackfillStatus.DONE:
        return backfill
    TestBackfill.objects.filter(pk=backfill.pk).update(status=BackfillStatus.RUNNING)
    runs = Run.objects.in_bulk(backfill.run_ids)
    for run_id in backfill.run_ids:
        run = runs.get(UUID(run_id))
        verdict = test_evaluate(test=backfill.test, run=run).status if run is not None else None
        TestBackfill.objects.filter(pk=backfill.pk).update(
            done=F("done") + 1,
            passed=F("passed") + int(verdict == TestRunStatus.PASSED),
            failed=F("failed") + int(verdict in (TestRunStatus.FAILED, TestRunStatus.ERROR)),
        )
    TestBackfill.objects.filter(pk=backfill.pk).update(status=BackfillStatus.DONE, finished_at=timezone.now())
    backfill.refresh_from_db()
    return backfill
