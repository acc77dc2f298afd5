from datetime import UTC, datetime

from apps.dashboard.models import RollupDay


def rollup_invalidate(*, project_id, started_at: datetime | None, now: datetime | None = None) -> None:
    """Forgets the rollup of the day a run started on, when that day is closed (before today, UTC).

    Called for every run that is created, changed or deleted: for today's runs (nearly all) it is a
    date comparison and no query; for a closed day, one DELETE of its marker (the next fill replaces
    the day's per-agent rows).
    """
    if started_at is None:
        return
    day = started_at.astimezone(UTC).date()
    if day >= (now or datetime.now(UTC)).astimezone(UTC).date():
        return
    RollupDay.objects.filter(project_id=project_id, day=day).delete()
