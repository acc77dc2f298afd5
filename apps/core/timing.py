"""Milliseconds between two times: every duration, latency and wait the app stores or shows."""

from datetime import datetime, timedelta

_MILLISECOND = timedelta(milliseconds=1)


def ms_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole milliseconds from `start` to `end` (never negative), or None when either is unknown."""
    if start is None or end is None:
        return None
    return max(0, (end - start) // _MILLISECOND)
