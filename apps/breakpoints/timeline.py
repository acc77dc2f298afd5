"""Each pause at a breakpoint, as an event of the run's timeline (registered in apps.py): which
breakpoint stopped which step, how long it waited, who decided what, and the input before and after
an edit. The step's own duration stays its own: the pause is a row of its own, with its own bar."""

from datetime import timedelta

from apps.breakpoints.models import BreakpointHit, HitAction, HitPhase, HitStatus
from apps.runs.models import Run
from apps.runs.registry import TimelineEvent

DECIDED = {
    HitAction.CONTINUE: "continued",
    HitAction.SKIP: "skipped the step, giving its output",
    HitAction.ABORT: "aborted the run",
}


def pause_events(*, run: Run, first: int, last: int) -> list[TimelineEvent]:
    """The pauses of the steps first..last of `run`, in one query."""
    hits = (
        BreakpointHit.objects.filter(run=run, step__step_index__gte=first, step__step_index__lte=last)
        .select_related("breakpoint", "resolved_by", "step")
        .order_by("created_at")
    )
    return [pause_event(hit) for hit in hits]


def pause_event(hit: BreakpointHit) -> TimelineEvent:
    where = "after its error " if hit.phase == HitPhase.AFTER else ""
    name = hit.breakpoint.name if hit.breakpoint and hit.breakpoint.name else None
    title = f"Paused {where}at “{name}”" if name else f"Paused {where}at a breakpoint"
    end = hit.resolved_at
    if end is None and hit.waited_ms is not None:
        end = hit.created_at + timedelta(milliseconds=hit.waited_ms)
    details = [("Input when it paused", hit.step_input)]
    if hit.input_edited:
        details.append(("Input after the edit", hit.edited_input))
    if hit.action == HitAction.SKIP:
        details.append(("Output given", hit.skip_output))
    tone = "error" if hit.action == HitAction.ABORT else "warning"
    return TimelineEvent(
        id=str(hit.pk),
        step_index=hit.step.step_index,
        title=title,
        summary=_decision(hit),
        start=hit.created_at,
        end=end if hit.status != HitStatus.WAITING else None,
        tone=tone,
        details=tuple(details),
    )


def _decision(hit: BreakpointHit) -> str:
    if hit.status == HitStatus.WAITING:
        return "waiting for a decision"
    if hit.timed_out:
        return "no one decided in time: the agent went on"
    who = hit.resolved_by.display_name if hit.resolved_by else "someone"
    did = DECIDED.get(hit.action, "decided")
    if hit.action == HitAction.CONTINUE and hit.input_edited:
        did = "continued with an edited input"
    return f"{who} {did}"
