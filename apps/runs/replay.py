"""Replay: a new run that forks a recorded one at step `n` (DESIGN.md section 6).

`run_replay_create` makes the new run (`pending`, `replay_of`, `replay_from_step`) and copies the
steps before the fork as recorded, each marked with `metadata.replayed_from` (the original step's
id), their times shifted so the copies keep their shape on the new run's timeline. What the SDK
needs to run the fork lives in `metadata.replay`: the fork step (type, name), the new input for it
(`step_input`) or the output to return for it (`step_output`), and the indexes of the steps that
contain the fork (a parent of the fork step can't be answered from the record: it runs live so its
children can run). The SDK claims the plan (`replay_claim`): the run goes `running` and its clock
restarts, so its duration compares with the original's.
"""

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.runs.models import Run, RunStatus, RunStep
from apps.runs.selectors import run_get_for_project
from apps.runs.services import run_restart
from apps.runs.writes import runs_write

UNSET: Any = object()
COPY_BATCH = 500
COPIED_FIELDS = (
    "step_index", "step_type", "name", "input", "output", "error", "tokens_used", "latency_ms", "status",
)  # fmt: skip


def replay_bounds_error(run: Run, from_step: Any) -> ApplicationError:
    last = run.step_count - 1
    message = f"Must be a step index from 0 to {last}." if run.step_count else "This run has no steps to replay from."
    return ApplicationError(f"from_step: {message}", errors={"from_step": [message]})


def _fork_step(run: Run, from_step: int) -> RunStep:
    if not isinstance(from_step, int) or isinstance(from_step, bool) or from_step < 0:
        raise replay_bounds_error(run, from_step)
    step = RunStep.objects.filter(run=run, step_index=from_step).order_by().first()
    if step is None:
        raise replay_bounds_error(run, from_step)
    return step


def _ancestors(fork: RunStep) -> list[int]:
    """The indexes of the steps the fork step is nested in, outermost first."""
    indexes, parent_id = [], fork.parent_id
    while parent_id is not None:
        parent = RunStep.objects.filter(pk=parent_id).values("step_index", "parent_id").order_by().first()
        if parent is None:
            break
        indexes.append(parent["step_index"])
        parent_id = parent["parent_id"]
    return indexes[::-1]


def _replay_metadata(*, run: Run, fork: RunStep, step_input: Any, step_output: Any) -> dict:
    replay: dict[str, Any] = {
        "of": str(run.pk),
        "from_step": fork.step_index,
        "fork": {"type": fork.step_type, "name": fork.name},
        "fork_ancestors": _ancestors(fork),
    }
    if step_input is not UNSET and step_input != fork.input:
        replay["step_input"] = step_input
    if step_output is not UNSET:
        replay["step_output"] = step_output
    metadata = {"replay": replay}
    entrypoint = (run.metadata or {}).get("agent_entrypoint")
    if entrypoint:
        metadata["agent_entrypoint"] = entrypoint
    return metadata


@transaction.atomic
def run_replay_create(
    *, run: Run, from_step: int, input: Any = UNSET, step_input: Any = UNSET, step_output: Any = UNSET
) -> Run:
    """A pending replay of `run` from step `from_step`, with the steps before it copied."""
    fork = _fork_step(run, from_step)
    now = timezone.now()
    replay = {
        "id": uuid.uuid4(),
        "agent_name": run.agent_name,
        "status": RunStatus.PENDING,
        "input": run.input if input is UNSET else input,
        "metadata": _replay_metadata(run=run, fork=fork, step_input=step_input, step_output=step_output),
        "started_at": now,
        "replay_of_id": run.pk,
        "replay_from_step": fork.step_index,
    }
    events = [("run.create", replay)]
    for copy in _step_copies(source=run, target_id=replay["id"], before=fork.step_index, shift_to=now):
        events.append(("step.create", copy))
        if len(events) >= COPY_BATCH:
            _write_all(run.project_id, events)
            events = []
    _write_all(run.project_id, events)
    return Run.objects.get(pk=replay["id"])


def _step_copies(*, source: Run, target_id, before: int, shift_to: datetime):
    """The steps of `source` with an index below `before`, as new steps of the replay (parents first:
    they start first), their times shifted."""
    shift = shift_to - source.started_at
    new_ids: dict = {}
    for step in RunStep.objects.filter(run=source, step_index__lt=before).order_by("step_index").iterator(COPY_BATCH):
        copy = {field: getattr(step, field) for field in COPIED_FIELDS}
        new_ids[step.pk] = copy["id"] = uuid.uuid4()
        copy.update(
            run_id=target_id,
            metadata={**(step.metadata or {}), "replayed_from": str(step.pk)},
            parent_id=new_ids.get(step.parent_id),
            started_at=step.started_at + shift if step.started_at else None,
            ended_at=step.ended_at + shift if step.ended_at else None,
        )
        yield copy


def _write_all(project_id, events: list) -> None:
    if events:
        for result in runs_write(project_id=project_id, events=events).results:
            result.get()


# The plan the SDK runs ---------------------------------------------------------------------------


def replay_settings(run: Run) -> dict:
    """What `run_replay_create` stored about the fork, or 400 when `run` is no replay."""
    replay = (run.metadata or {}).get("replay")
    if run.replay_from_step is None or not isinstance(replay, dict):
        message = "This run is not a replay: create one with POST /api/runs/{id}/replay."
        raise ApplicationError(message, errors={"run_id": [message]})
    return replay


def replay_plan(*, run: Run) -> dict:
    replay = replay_settings(run)
    ancestors = set(replay.get("fork_ancestors") or [])
    steps = RunStep.objects.filter(run=run, step_index__lt=run.replay_from_step).order_by("step_index")
    rows = steps.values("id", "step_index", "step_type", "name", "input", "output", "error", "parent_id")
    plan_steps = [
        {
            "id": row["id"],
            "index": row["step_index"],
            "type": row["step_type"],
            "name": row["name"],
            "parent_id": row["parent_id"],
            "output": row["output"],
            "error": row["error"],
            "contains_fork": row["step_index"] in ancestors,
        }
        for row in rows
    ]
    return {
        "run": {
            "id": run.pk,
            "agent_name": run.agent_name,
            "status": run.status,
            "input": run.input,
            "metadata": run.metadata,
        },
        "replay_of": run.replay_of_id,
        "from_step": run.replay_from_step,
        "fork": replay.get("fork") or {},
        "has_step_input": "step_input" in replay,
        "step_input": replay.get("step_input"),
        "has_step_output": "step_output" in replay,
        "step_output": replay.get("step_output"),
        "steps": plan_steps,
    }


@transaction.atomic
def replay_claim(*, project, run_id) -> Run:
    """The SDK starts the replay: pending → running, the clock (and the copied steps) moved to now."""
    run = run_get_for_project(project=project, run_id=run_id, lock=True)
    replay_settings(run)
    if run.status != RunStatus.PENDING:
        message = f"This replay was already picked up (it is {run.status}): create a new replay to run it again."
        raise ApplicationError(message, errors={"run_id": [message]}, status=409)
    shift = timezone.now() - run.started_at
    RunStep.objects.filter(run=run, started_at__isnull=False).update(started_at=F("started_at") + shift)
    RunStep.objects.filter(run=run, ended_at__isnull=False).update(ended_at=F("ended_at") + shift)
    run_restart(run=run, status=RunStatus.RUNNING, started_at=run.started_at + shift)
    return run


AGENT_PLACEHOLDER = "module:function"


def replay_command(run: Run) -> str:
    """The command that runs a pending replay; the agent's entry point when the SDK recorded it."""
    entrypoint = (run.metadata or {}).get("agent_entrypoint") or AGENT_PLACEHOLDER
    return f"agentscope replay {run.pk} --agent {entrypoint}"
