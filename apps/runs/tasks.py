"""Background work of the runs app on Django's tasks framework: the daily prune (apps.runs.retention).

The database queue has no clock, so the prune queues its next run itself: `manage.py prune_runs
--schedule` (the worker's entrypoint runs it as it starts) queues the first if none is waiting, and
each run queues the next for the same hour of the next day."""

from collections import Counter
from datetime import datetime, time, timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, default_task_backend, task
from django.utils import timezone

from apps.runs import retention

PRUNE_AT = time(3, 0)  # UTC: the quiet hour of most teams


@task
def prune_daily() -> dict:
    prune_schedule()  # the next one, queued first: a failure today doesn't stop tomorrow's
    deleted = Counter()
    for project, cutoff in retention.projects_with_retention(now=timezone.now()):
        deleted += retention.project_prune(project=project, cutoff=cutoff, chunk_steps=settings.RETENTION_CHUNK_STEPS)
    return dict(deleted)


def prune_schedule() -> datetime | None:
    """Queues the next daily prune unless one is waiting already; answers when it runs (None when this
    backend runs tasks inline and can't defer them)."""
    if not default_task_backend.supports_defer:
        return None
    from django_tasks_db.models import DBTaskResult  # the database queue: there only when it is the backend

    waiting = DBTaskResult.objects.filter(task_path=prune_daily.module_path, status=TaskResultStatus.READY)
    if (queued := waiting.order_by("run_after").first()) is not None:
        return queued.run_after
    now = timezone.now()
    when = datetime.combine(now.date(), PRUNE_AT, tzinfo=now.tzinfo)
    if when <= now:
        when += timedelta(days=1)
    prune_daily.using(run_after=when).enqueue()
    return when
