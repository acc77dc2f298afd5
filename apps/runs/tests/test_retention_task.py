"""The task worker prunes daily: `prune_runs --schedule` (the worker's entrypoint) queues the prune once,
and each prune queues the next."""

from datetime import UTC, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from apps.runs.models import Run
from apps.runs.tasks import prune_daily

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def queued():
    return DBTaskResult.objects.filter(task_path=prune_daily.module_path, status=TaskResultStatus.READY)


def test_schedule_queues_one_prune_at_three_utc(settings):
    settings.TASKS = DATABASE_QUEUE

    call_command("prune_runs", "--schedule", stdout=StringIO())
    call_command("prune_runs", "--schedule", stdout=StringIO())

    task = queued().get()
    assert task.run_after.astimezone(UTC).time() == time(3, 0)
    assert timedelta(0) < task.run_after - task.enqueued_at <= timedelta(days=1)


def test_the_daily_prune_prunes_and_queues_the_next(settings, project, make_run):
    settings.TASKS = DATABASE_QUEUE
    project.retention_days = 7
    project.save()
    old = make_run(started_at=Run.objects.model().started_at - timedelta(days=8))
    new = make_run()

    deleted = prune_daily.call()

    assert deleted["runs"] == 1
    assert set(Run.objects.all()) == {new}
    assert not Run.objects.filter(pk=old.pk).exists()
    assert queued().count() == 1


def test_inline_backends_queue_nothing(settings):
    out = StringIO()
    call_command("prune_runs", "--schedule", stdout=out)
    assert "Not queued" in out.getvalue()
