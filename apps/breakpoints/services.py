"""Breakpoints and the pause protocol. All pause state lives in the database, so any app server
can record a hit, answer the SDK's poll or take a person's decision."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.breakpoints.matching import breakpoint_match, custom_evaluate, run_context, step_context
from apps.breakpoints.models import (
    Breakpoint,
    BreakpointHit,
    ConditionType,
    HitAction,
    HitPhase,
    HitStatus,
    decisions_for,
)
from apps.breakpoints.selectors import breakpoints_enabled_for, hit_control, hit_for_run, run_control
from apps.breakpoints.validation import condition_validate
from apps.core.errors import ApplicationError
from apps.core.timing import ms_between
from apps.orgs.audit import Actor, audit_record
from apps.projects.models import Project
from apps.runs.models import Run, RunStep, StepStatus
from apps.runs.selectors import run_lock
from apps.runs.services import run_abort, run_pause, run_unpause, step_note, step_update


def breakpoint_create(
    *,
    project: Project,
    condition_type: str,
    condition_value=None,
    name: str | None = None,
    agent_name: str | None = None,
    enabled: bool = True,
    actor: Actor | None = None,
) -> Breakpoint:
    value = condition_validate(condition_type=condition_type, condition_value=condition_value)
    breakpoint = Breakpoint.objects.create(
        project=project,
        name=name or None,
        condition_type=condition_type,
        condition_value=value,
        agent_name=agent_name or None,
        enabled=enabled,
    )
    _audit(actor, breakpoint, "breakpoint.created", {"condition_type": condition_type, "condition_value": value})
    return breakpoint


_AUDITED = ("name", "condition_type", "condition_value", "agent_name", "enabled")


def _audit(actor, breakpoint: Breakpoint, action: str, changes: dict | None = None) -> None:
    audit_record(
        actor=actor, organization_id=breakpoint.project.organization_id, action=action, target=breakpoint,
        changes=changes,
    )  # fmt: skip


def breakpoint_update(*, breakpoint: Breakpoint, data: dict, actor: Actor | None = None) -> Breakpoint:
    before = {field: getattr(breakpoint, field) for field in _AUDITED}
    if "condition_type" in data or "condition_value" in data:
        condition_type = data.get("condition_type", breakpoint.condition_type)
        # A new type without a new value starts from nothing rather than the old type's value.
        kept = breakpoint.condition_value if condition_type == breakpoint.condition_type else None
        value = data.get("condition_value", kept)
        breakpoint.condition_value = condition_validate(condition_type=condition_type, condition_value=value)
        breakpoint.condition_type = condition_type
    for field in ("name", "agent_name"):
        if field in data:
            setattr(breakpoint, field, data[field] or None)
    if "enabled" in data:
        breakpoint.enabled = data["enabled"]
    breakpoint.save()
    changes = {
        field: [was, getattr(breakpoint, field)] for field, was in before.items() if was != getattr(breakpoint, field)
    }
    if changes:
        _audit(actor, breakpoint, "breakpoint.changed", changes)
    return breakpoint


def breakpoint_delete(*, breakpoint: Breakpoint, actor: Actor | None = None) -> None:
    _audit(actor, breakpoint, "breakpoint.deleted")
    breakpoint.delete()


def breakpoint_toggle(*, breakpoint: Breakpoint, enabled: bool | None = None, actor: Actor | None = None) -> Breakpoint:
    """Set `enabled`, or flip it when not given."""
    was = breakpoint.enabled
    breakpoint.enabled = (not breakpoint.enabled) if enabled is None else enabled
    breakpoint.save(update_fields=["enabled", "updated_at"])
    if was != breakpoint.enabled:
        _audit(actor, breakpoint, "breakpoint.changed", {"enabled": [was, breakpoint.enabled]})
    return breakpoint


def _phase(step: RunStep) -> str | None:
    """Before a running step executes, or after one that ended in an error; else nothing to check."""
    if step.status == StepStatus.RUNNING:
        return HitPhase.BEFORE
    if step.is_error:
        return HitPhase.AFTER
    return None


def _hit_record(*, run: Run, step: RunStep, breakpoint: Breakpoint, phase: str) -> BreakpointHit:
    try:
        with transaction.atomic():
            hit = BreakpointHit.objects.create(
                run=run, step=step, breakpoint=breakpoint, phase=phase, step_input=step.input
            )
            run_pause(run=run)
    except IntegrityError:
        # The same step was posted again (a retry): answer with the hit it already made.
        return BreakpointHit.objects.select_related("breakpoint", "step", "resolved_by").get(step=step, phase=phase)
    return hit


def breakpoint_check_step(*, run: Run, step: RunStep) -> dict:
    """Called by ingest when a step is posted running (or ends in an error): pause it on the first
    enabled breakpoint it matches. One query when nothing can match."""
    phase = _phase(step)
    if phase is None or run.is_finished:
        return {"action": HitAction.CONTINUE.value}
    breakpoints = breakpoints_enabled_for(run=run, phase=phase)
    if not breakpoints:
        return {"action": HitAction.CONTINUE.value}
    step_data, run_data = step_context(step), run_context(run, now=step.started_at)
    for breakpoint in breakpoints:
        if breakpoint_match(breakpoint=breakpoint, step=step_data, run=run_data):
            return hit_control(_hit_record(run=run, step=step, breakpoint=breakpoint, phase=phase))
    return {"action": HitAction.CONTINUE.value}


def _waiting_hit(*, run: Run, hit_id=None) -> BreakpointHit:
    if run.is_finished:
        raise ApplicationError(f"This run has already {run.status}; nothing waits at a breakpoint.", status=409)
    if hit_id is not None:
        hit = hit_for_run(run=run, hit_id=hit_id)
    else:
        hit = BreakpointHit.objects.select_related("breakpoint", "step").filter(run=run, status=HitStatus.WAITING)
        hit = hit.order_by("created_at", "id").first()
    if hit is None or not hit.is_waiting:
        raise ApplicationError("This run has no step waiting at a breakpoint.", status=409)
    return hit


def _check_resume_shape(*, run: Run, hit: BreakpointHit, action: str, input, output) -> None:
    if action not in HitAction.values:
        raise ApplicationError(
            f"action: must be one of {', '.join(HitAction.values)}.", errors={"action": ["Not a valid action."]}
        )
    if input is not None and action != HitAction.CONTINUE:
        raise ApplicationError("input: only continue takes an edited input.", errors={"input": ["Only with continue."]})
    if input is not None and hit.phase == HitPhase.AFTER:
        message = "The step has already run; its input can no longer be edited."
        raise ApplicationError(f"input: {message}", errors={"input": [message]})
    if output is not None and action != HitAction.SKIP:
        raise ApplicationError("output: only skip takes an output.", errors={"output": ["Only with skip."]})
    allowed = decisions_for(run, hit.step)
    if (input is not None and "edit" not in allowed) or (action == HitAction.SKIP and "skip" not in allowed):
        framework = (run.integration or {}).get("framework", "")
        message = f"This agent's framework ({framework}) allows {' and '.join(allowed)} only."
        raise ApplicationError(f"action: {message}", errors={"action": [message]})


def _claim(*, hit: BreakpointHit, status: str, **fields) -> None:
    """Resolve the hit if it is still waiting; of two people pressing at once, exactly one wins."""
    now = timezone.now()
    fields.update(status=status, resolved_at=now)
    if fields.get("waited_ms") is None:
        fields["waited_ms"] = ms_between(hit.created_at, now)
    if not BreakpointHit.objects.filter(pk=hit.pk, status=HitStatus.WAITING).update(**fields):
        raise ApplicationError("This breakpoint was already resolved by someone else.", status=409)
    for field, value in fields.items():
        setattr(hit, field, value)


def _step_record(*, run: Run, hit: BreakpointHit, user=None, error: dict | None = None) -> None:
    """Write the decision into the step: its metadata keeps the original input when it was edited;
    a skipped step completes with the given output, an aborted one fails (the run counts the error)."""
    note = {
        "hit_id": str(hit.pk),
        "breakpoint_id": str(hit.breakpoint_id) if hit.breakpoint_id else None,
        "breakpoint_name": hit.breakpoint_label,
        "phase": hit.phase,
        "action": hit.action,
        "resolved_by": user.email if user else None,
        "input_edited": hit.input_edited,
        "waited_ms": hit.waited_ms,
    }
    if hit.timed_out:
        note["timed_out"] = True
    edited = {}
    if hit.input_edited:
        note["original_input"] = hit.step_input
        edited["input"] = hit.edited_input
    ended = {"ended_at": hit.resolved_at}
    if hit.phase == HitPhase.BEFORE and hit.action == HitAction.SKIP:
        note["skipped"] = True
        ended.update(output=hit.skip_output, status=StepStatus.COMPLETED)
    elif hit.phase == HitPhase.BEFORE and error is not None:
        ended.update(error=error, status=StepStatus.FAILED)
    else:
        step_note(run=run, step_id=hit.step_id, metadata={"breakpoint": note}, **edited)
        return
    step_update(run=run, step_id=hit.step_id, data={**ended, **edited, "metadata": {"breakpoint": note}})


def _run_back_to_running(run: Run) -> None:
    """Unpause the run unless another of its steps still waits (parallel steps each pause alone).
    Under the run's lock: a step that pauses meanwhile waits for it, and keeps the run paused."""
    run_lock(run=run)
    if not BreakpointHit.objects.filter(run=run, status=HitStatus.WAITING).exists():
        run_unpause(run=run)


def _run_abort(*, run: Run, hit: BreakpointHit, user) -> dict:
    error = {"message": hit.abort_message(), "type": "Aborted"}
    run_abort(run=run, error=error, ended_at=hit.resolved_at)
    # Other steps of the run waiting in parallel are aborted with it.
    BreakpointHit.objects.filter(run=run, status=HitStatus.WAITING).update(
        status=HitStatus.ABORTED, action=HitAction.ABORT, resolved_by=user, resolved_at=hit.resolved_at
    )
    return error


def run_resume(
    *, run: Run, user, action: str, input=None, output=None, hit_id=None, actor: Actor | None = None
) -> BreakpointHit:
    """A person's decision on the run's waiting step: continue (maybe with edited input), skip
    with an output, or abort the run. 409 when nothing waits or someone else decided first."""
    hit = _waiting_hit(run=run, hit_id=hit_id)
    _check_resume_shape(run=run, hit=hit, action=action, input=input, output=output)
    status = HitStatus.ABORTED if action == HitAction.ABORT else HitStatus.RESUMED
    with transaction.atomic():
        _claim(
            hit=hit,
            status=status,
            action=action,
            resolved_by=user,
            edited_input=input,
            input_edited=input is not None,
            skip_output=output if action == HitAction.SKIP else None,
        )
        if action == HitAction.ABORT:
            _step_record(run=run, hit=hit, user=user, error=_run_abort(run=run, hit=hit, user=user))
        else:
            _step_record(run=run, hit=hit, user=user)
            _run_back_to_running(run)
        audit_record(
            actor=actor, organization_id=run.project.organization_id, action=f"run.{status}", target=run,
            changes={"decision": action, "step": hit.step_id and str(hit.step_id), "input_edited": input is not None},
        )  # fmt: skip
    return hit


def breakpoint_hit_time_out(*, run: Run, hit_id, waited_ms: int | None = None) -> dict:
    """The SDK waited its maximum and went on: record that, unpause, and answer the decision,
    which is someone's real one if they pressed a button at the same moment."""
    hit = hit_for_run(run=run, hit_id=hit_id)
    if hit.is_waiting:
        try:
            with transaction.atomic():
                fields = {"action": HitAction.CONTINUE, "timed_out": True, "waited_ms": waited_ms}
                _claim(hit=hit, status=HitStatus.RESUMED, **fields)
                _step_record(run=run, hit=hit)
                _run_back_to_running(run)
        except ApplicationError:
            pass
    return run_control(run=run, hit_id=hit_id)


def breakpoint_test_against_step(*, breakpoint_data: dict, step: RunStep) -> dict:
    """For the editor: validate a condition and say whether it matches this step, as the step
    was when it was posted; for custom, also the expression's value (or its error)."""
    condition_type = breakpoint_data.get("condition_type")
    value = condition_validate(condition_type=condition_type, condition_value=breakpoint_data.get("condition_value"))
    candidate = Breakpoint(
        condition_type=condition_type, condition_value=value, agent_name=breakpoint_data.get("agent_name") or None
    )
    step_data, run_data = step_context(step), run_context(step.run, now=step.started_at or step.created_at)
    result = {
        "condition_type": condition_type,
        "condition_value": value,
        "match": breakpoint_match(breakpoint=candidate, step=step_data, run=run_data),
        "step": step_data,
        "run": run_data,
    }
    if condition_type == ConditionType.CUSTOM:
        result["value"], result["error"] = custom_evaluate(expression=value["expression"], step=step_data, run=run_data)
    return result
