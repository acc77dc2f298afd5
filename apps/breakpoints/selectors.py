from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.breakpoints.models import Breakpoint, BreakpointHit, ConditionType, HitAction, HitPhase, HitStatus
from apps.projects.models import Project
from apps.projects.selectors import project_authorize, project_get
from apps.runs.models import Run, RunStep


def breakpoints_for_user(*, user, project_id=None) -> QuerySet[Breakpoint]:
    """The user's breakpoints, in one of their projects when `project_id` is given (else 404)."""
    if project_id is not None:
        return project_get(user=user, project_id=project_id).breakpoints.all()
    return Breakpoint.objects.filter(project__organization__memberships__user=user)


def breakpoint_get(*, user, breakpoint_id, action: str = "read") -> Breakpoint:
    breakpoints = Breakpoint.objects.select_related("project").filter(project__organization__memberships__user=user)
    breakpoint = get_object_or_404(
        breakpoints.annotate(member_role=F("project__organization__memberships__role")), pk=breakpoint_id
    )
    project_authorize(user=user, project=breakpoint.project, action=action, role=breakpoint.member_role)
    return breakpoint


def breakpoints_enabled_for(*, run: Run, phase: str) -> list[Breakpoint]:
    """The breakpoints that may stop a step of `run` in this phase, in one query."""
    types = (
        [ConditionType.ON_ERROR]
        if phase == HitPhase.AFTER
        else [
            ConditionType.STEP_TYPE,
            ConditionType.STEP_NAME,
            ConditionType.CUSTOM,
        ]
    )
    scope = Q(agent_name__isnull=True) | Q(agent_name="")
    if run.agent_name:
        scope |= Q(agent_name=run.agent_name)
    queryset = Breakpoint.objects.filter(project_id=run.project_id, enabled=True, condition_type__in=types)
    return list(queryset.filter(scope).order_by("created_at", "id"))


def breakpoints_enabled_for_project(*, project: Project) -> QuerySet[Breakpoint]:
    """The project's enabled breakpoints: what the SDK needs to tell which steps may pause."""
    return Breakpoint.objects.filter(project=project, enabled=True).order_by("created_at", "id")


def _hits(run: Run) -> QuerySet[BreakpointHit]:
    return BreakpointHit.objects.filter(run=run).select_related("breakpoint", "step", "resolved_by")


def waiting_hit_for_run(run: Run) -> BreakpointHit | None:
    """The step this run waits on (the oldest, when parallel steps wait), for the run page banner.
    A run that has ended waits on nothing, whatever an agent that died while paused left behind."""
    if run.is_finished:
        return None
    return _hits(run).filter(status=HitStatus.WAITING).order_by("created_at", "id").first()


def hits_for_run(*, run: Run) -> QuerySet[BreakpointHit]:
    return _hits(run).order_by("-created_at", "-id")


def hit_for_run(*, run: Run, hit_id) -> BreakpointHit:
    return get_object_or_404(_hits(run), pk=hit_id)


def hit_control(hit: BreakpointHit | None) -> dict:
    """What the SDK must do about this hit: the answer of the control endpoint."""
    if hit is None:
        return {"action": HitAction.CONTINUE.value, "hit_id": None}
    if hit.is_waiting:
        return {"action": "pause", "hit_id": str(hit.pk)}
    control = {"action": hit.action, "hit_id": str(hit.pk)}
    if hit.action == HitAction.CONTINUE and hit.input_edited:
        control["input"] = hit.edited_input
    elif hit.action == HitAction.SKIP:
        control["output"] = hit.skip_output
    elif hit.action == HitAction.ABORT:
        control["message"] = hit.abort_message()
    if hit.timed_out:
        control["timed_out"] = True
    return control


def run_control(*, run: Run, hit_id=None) -> dict:
    """The decision for a hit of the run: the one asked for, else a waiting one, else the latest."""
    if hit_id is not None:
        return hit_control(hit_for_run(run=run, hit_id=hit_id))
    return hit_control(waiting_hit_for_run(run) or hits_for_run(run=run).first())


def recent_steps_for_project(*, project: Project, limit: int = 20) -> QuerySet[RunStep]:
    """Steps to test a breakpoint against in the editor, newest first."""
    return RunStep.objects.filter(run__project=project).select_related("run").order_by("-created_at")[:limit]
