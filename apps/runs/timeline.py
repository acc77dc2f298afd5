"""What the timeline draws: a window of a run's steps by index, without their JSON payloads.

A step's depth comes from its parent chain. Parents inside the window are free; parents before it
are looked up (one query per level of nesting that leaves the window) and their depths cached, as a
step's parent never changes once the run has no step waiting for its parent (OpenTelemetry spans can
arrive before their parent, see apps.runs.writes). Each entry carries its start offset and length relative to the run,
in milliseconds, for the waterfall bar.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.core.cache import cache
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, TextField
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from apps.core.timing import ms_between
from apps.runs.inspection import MESSAGE_KEYS, error_view
from apps.runs.models import Run, RunStatus, RunStep, StepStatus, StepType

TIMELINE_FIELDS = (
    "id", "run_id", "step_index", "step_type", "name", "status", "started_at", "ended_at", "created_at",
    "latency_ms", "tokens_used", "parent_id", "cost_usd",
)  # fmt: skip
DEPTH_KEY = "runs:step-depth:{}"
MAX_HOPS = 32  # levels of nesting looked up outside a window; deeper chains count from there
MIN_BAR_SHARE = 0.004  # the thinnest bar, as a share of the run, so an instant step still shows
LIVE = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED)
WAITED_MS = 50  # a step spanning this much longer than its own latency waited before it ran
ERROR_HEAD = 400  # characters of a step's error JSON the timeline reads, for the line under a failed row
_KEYS = "|".join(map(re.escape, MESSAGE_KEYS))
_MESSAGE = re.compile(rf'"(?:{_KEYS})"\s*:\s*"((?:[^"\\]|\\.)*)')


@dataclass
class TimelineEntry:
    id: UUID
    index: int
    type: str
    name: str | None
    status: str
    start_ms: int | None
    duration_ms: int | None
    depth: int
    parent_id: UUID | None
    tokens: int | None
    has_error: bool
    has_warning: bool
    waiting: bool  # running in a paused run: waiting for a person to decide
    error_line: str = ""  # the error's message, shown under a failed row's name
    ran_ms: int | None = None  # when it ran: later than start_ms for a step that waited first (a pause)
    failed_inside: bool = False  # a step nested in it (at any depth) failed: marked while it is collapsed
    bar_start: float = 0
    bar_width: float = 0
    cost: Decimal | None = None
    unpriced: bool = False  # an LLM call that ended without a price: "no price", never $0

    @property
    def step_index(self) -> int:
        return self.index

    @property
    def tone(self) -> str:
        """green success, red error, yellow warning (or waiting), blue in progress."""
        if self.has_error:
            return "error"
        if self.waiting or self.has_warning:
            return "warning"
        return "info" if self.status == StepStatus.RUNNING else "success"


@dataclass
class TimelineWindow:
    entries: list[TimelineEntry]
    has_before: bool
    has_after: bool
    total_ms: int

    @property
    def first_index(self) -> int | None:
        return self.entries[0].index if self.entries else None

    @property
    def last_index(self) -> int | None:
        return self.entries[-1].index if self.entries else None

    @property
    def running_indexes(self) -> list[int]:
        return [entry.index for entry in self.entries if entry.status == StepStatus.RUNNING]


def timeline_steps(*, run: Run, step_type: str | None = None, name: str | None = None) -> QuerySet[RunStep]:
    steps = RunStep.objects.filter(run=run).only(*TIMELINE_FIELDS).order_by()
    if step_type:
        steps = steps.filter(step_type=step_type)
    if name:
        steps = steps.filter(name__icontains=name)
    return steps.annotate(
        error_set=ExpressionWrapper(Q(error__isnull=False), output_field=BooleanField()),
        error_head=Substr(Cast("error", output_field=TextField()), 1, ERROR_HEAD),
        warning_set=ExpressionWrapper(
            Q(metadata__has_key="warning") | Q(metadata__has_key="warnings"), output_field=BooleanField()
        ),
    )


def timeline_window(
    *,
    run: Run,
    steps: QuerySet[RunStep],
    after: int | None = None,
    before: int | None = None,
    around: int | None = None,
    size: int = 200,
    flat: bool = False,
    now: datetime | None = None,
) -> TimelineWindow:
    """Up to `size` steps: the first ones, those after/before an index, or those around one.

    `flat` skips the depth lookup (a filtered list has no tree to show).
    """
    if around is not None:
        half = size // 2
        head = list(steps.filter(step_index__lt=around).order_by("-step_index")[: half + 1])
        tail = list(steps.filter(step_index__gte=around).order_by("step_index")[: size - half + 1])
        rows, has_before, has_after = head[:half][::-1] + tail[: size - half], len(head) > half, len(tail) > size - half
    elif before is not None:
        head = list(steps.filter(step_index__lt=before).order_by("-step_index")[: size + 1])
        rows, has_before, has_after = head[:size][::-1], len(head) > size, True
    else:
        if after is not None:
            steps = steps.filter(step_index__gt=after)
        tail = list(steps.order_by("step_index")[: size + 1])
        rows, has_before, has_after = tail[:size], after is not None and after >= 0, len(tail) > size
    return _window(run, rows, has_before, has_after, flat=flat, now=now or timezone.now())


def _window(run, rows, has_before, has_after, *, flat, now) -> TimelineWindow:
    depths = {} if flat else step_depths(run=run, rows=rows)
    waiting = run.status == RunStatus.PAUSED
    entries = [_entry(run, row, depths.get(row.pk, 0), waiting, now) for row in rows]
    if run.error_count and not flat:
        inside = failed_ancestors(run=run)
        for entry in entries:
            entry.failed_inside = entry.id in inside
    total = run_span_ms(run=run, now=now)
    for entry in entries:
        if entry.start_ms is not None and entry.duration_ms is not None:
            total = max(total, entry.start_ms + entry.duration_ms)
    for entry in entries:
        entry.bar_start = min(max(entry.ran_ms if entry.ran_ms is not None else entry.start_ms or 0, 0), total)
        entry.bar_width = max(entry.duration_ms or 0, total * MIN_BAR_SHARE)
    return TimelineWindow(entries=entries, has_before=has_before, has_after=has_after, total_ms=max(total, 1))


def _entry(run: Run, row: RunStep, depth: int, paused: bool, now: datetime) -> TimelineEntry:
    start = row.started_at or row.created_at
    running = row.status == StepStatus.RUNNING
    duration = row.latency_ms
    if duration is None:
        duration = ms_between(start, row.ended_at or (now if running else None))
    start_ms = ms_between(run.started_at, start) if start else None
    ran_ms = start_ms
    if row.latency_ms is not None and row.ended_at and start_ms is not None:
        # The SDK's latency is the step's own time: a step that spans longer waited before it ran
        # (at a breakpoint, whose pause the timeline draws as a row of its own); its bar is when it ran.
        span = ms_between(start, row.ended_at) or 0
        if span > row.latency_ms + WAITED_MS:
            ran_ms = start_ms + span - row.latency_ms
    return TimelineEntry(
        id=row.pk,
        index=row.step_index,
        ran_ms=ran_ms,
        type=row.step_type,
        name=row.name,
        status=row.status,
        start_ms=start_ms,
        duration_ms=duration,
        depth=depth,
        parent_id=row.parent_id,
        tokens=row.tokens_used,
        has_error=RunStep.error_in(status=row.status, error=row.error_set or None, step_type=row.step_type),
        has_warning=bool(row.warning_set),
        waiting=running and paused,
        error_line=error_line(getattr(row, "error_head", None)),
        cost=row.cost_usd,
        unpriced=row.cost_usd is None and row.step_type == StepType.LLM_CALL and row.status != StepStatus.RUNNING,
    )


def error_line(head: str | None) -> str:
    """The message of a stored error, from the first characters of its JSON text (the timeline reads
    no payloads): the whole value when it fits, else the message found at its start."""
    if not head:
        return ""
    try:
        view = error_view(json.loads(head))
    except ValueError:
        found = _MESSAGE.search(head)
        if not found:
            return head[:200]
        try:
            return json.loads(f'"{found.group(1)}"')
        except ValueError:
            return found.group(1)
    return view.message.splitlines()[0][:300] if view and view.message else ""


def failed_ancestors(*, run: Run) -> set[UUID]:
    """Every step with a failed step nested in it, at any depth: one query for the failed steps'
    parents, then one per level up (at most MAX_HOPS)."""
    parents = set(
        RunStep.objects.filter(run=run)
        .filter(RunStep.error_filter(), parent__isnull=False)
        .values_list("parent_id", flat=True)
    )
    found, hops = set(), 0
    while parents and hops < MAX_HOPS:
        found |= parents
        above = RunStep.objects.filter(run=run, pk__in=parents, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
        parents, hops = set(above) - found, hops + 1
    return found


def run_span_ms(*, run: Run, now: datetime | None = None) -> int:
    """The length of the run the bars are drawn against: so far, while it is live."""
    if run.status in LIVE and run.ended_at is None:
        return max(run.duration_ms or 0, run.elapsed_ms(now))
    return run.duration_ms or (run.elapsed_ms() if run.ended_at else 0)


def step_depths(*, run: Run, rows: list[RunStep]) -> dict[UUID, int]:
    """The nesting depth of each step in `rows` (0 at the top)."""
    parent_of: dict[UUID, UUID | None] = {row.pk: row.parent_id for row in rows}
    depth: dict[UUID, int] = {}
    missing = {parent for parent in parent_of.values() if parent and parent not in parent_of}
    if missing:
        cached = cache.get_many([DEPTH_KEY.format(pk) for pk in missing])
        depth.update({pk: cached[key] for pk in missing if (key := DEPTH_KEY.format(pk)) in cached})
        missing -= depth.keys()
    hops = 0
    while missing and hops < MAX_HOPS:
        found = dict(RunStep.objects.filter(run=run, pk__in=missing).order_by().values_list("pk", "parent_id"))
        parent_of.update(found)
        missing = {parent for parent in found.values() if parent and parent not in parent_of}
        hops += 1
    for pk in parent_of:
        _resolve(pk, parent_of, depth)
    if not run.steps_awaiting_parent:  # else a step waiting for its parent may yet move deeper
        parents = {parent for parent in parent_of.values() if parent}
        cache.set_many({DEPTH_KEY.format(pk): depth[pk] for pk in parents if pk in depth}, timeout=3600)
    return depth


def _resolve(pk: UUID, parent_of: dict, depth: dict) -> None:
    """Walks up until a step of known depth, a root, a step not looked up, or a loop."""
    chain, seen, current = [], set(), pk
    while current is not None and current not in depth and current in parent_of and current not in seen:
        seen.add(current)
        chain.append(current)
        current = parent_of[current]
    base = depth[current] if current is not None and current in depth else -1
    for offset, node in enumerate(reversed(chain), start=1):
        depth[node] = base + offset
