"""Background work of the testing app, on Django's tasks framework (settings.TASKS picks the backend:
inline in tests and under DEBUG, the database queue and `manage.py db_worker` in production)."""

from django.tasks import task

from apps.testing.services import test_backfill_run, tests_evaluate_run


@task
def evaluate_run(run_id: str) -> dict:
    """Judge a run that ended with every enabled test that targets it."""
    test_runs = tests_evaluate_run(run_id=run_id)
    return {"run_id": run_id, "test_runs": {str(t.pk): t.status for t in test_runs}}


@task
def backfill_test(backfill_id: str) -> dict:
    """Judge the runs a backfill chose with its test ("Judge the last N runs")."""
    backfill = test_backfill_run(backfill_id=backfill_id)
    if backfill is None:
        return {"backfill_id": backfill_id, "missing": True}
    return {"backfill_id": backfill_id, "done": backfill.done, "passed": backfill.passed, "failed": backfill.failed}
