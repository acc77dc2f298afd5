"""What goes into the one write path (apps.runs.writes) and what comes out: each event's `Result`,
the errors an event can get, and the rule that makes a new step's values from what was posted."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import connection

from apps.core.errors import ApplicationError
from apps.core.timing import ms_between
from apps.runs.models import Run, RunStep, StepStatus, StepType
from apps.runs.pricing import Custom, step_cost
from apps.runs.search import document

INT_MAX = 2**31 - 1
STEP_FIELDS = tuple(f.attname for f in RunStep._meta.concrete_fields)
STEP_GIVEN = (
    "step_type", "name", "input", "output", "metadata", "error", "tokens_used", "latency_ms", "started_at", "ended_at",
)  # fmt: skip


@dataclass(slots=True)
class Result:
    """What one event did: 201 (created) or 200 (found, or changed) with its run or step (`row`:
    the step's values), else the error it got."""

    status: int
    run: Run | None = None
    row: dict | None = None
    error: ApplicationError | None = None
    changed: bool = True  # False for a status move that did not apply (the run was not in that state)

    @property
    def id(self) -> UUID:
        return self.row["id"] if self.row is not None else self.run.pk

    @property
    def step(self) -> RunStep:
        return RunStep.from_db(connection.alias, STEP_FIELDS, [self.row[name] for name in STEP_FIELDS])

    def get(self) -> "Result":
        """This result, or its error raised: for the callers that write one event."""
        if self.error is not None:
            raise self.error
        return self


@dataclass
class Written:
    results: list[Result]
    finished_runs: list[Run] = field(default_factory=list)  # runs an update or end left finished


def new_step_row(data: dict, *, run_id: UUID, step_index: int | None, now: datetime) -> dict:
    """A new step's values from its posted `data`: its status is the one given, else what its values
    say; its latency, when it has ended and none was given, runs from its start to its end."""
    row = {name: data.get(name) for name in STEP_GIVEN}
    row.update(
        id=data.get("id") or uuid.uuid4(),
        run_id=run_id,
        step_index=step_index,
        created_at=now,
        parent_id=None,
        parent_pending_id=None,
        model=None,
        cost_usd=None,
        cost_details=None,
        status=data.get("status")
        or RunStep.status_for(
            step_type=row["step_type"], output=row["output"], error=row["error"], ended_at=row["ended_at"]
        ),
    )
    if row["latency_ms"] is None and row["ended_at"] is not None:
        row["latency_ms"] = latency_between(row["started_at"], row["ended_at"])
    row["search"] = step_document(row)
    return row


def step_priced(row: dict, custom: "Callable[[], list[Custom]]") -> None:
    """Sets the step's model and cost from its metadata (apps.runs.pricing); `custom` gives the
    project's own prices, asked for only when the step has a model to price."""
    metadata = row["metadata"]
    if not metadata or ("model" not in metadata and "cost_usd" not in metadata):
        row["model"] = row["cost_usd"] = row["cost_details"] = None
        return
    needs_custom = row["step_type"] == StepType.LLM_CALL and "usage" in metadata
    row["model"], row["cost_usd"], row["cost_details"] = step_cost(
        step_type=row["step_type"],
        metadata=metadata,
        at=row["started_at"] or row["created_at"],
        custom=custom() if needs_custom else [],
    )


def step_unpriced(row: dict) -> bool:
    """An LLM call that has ended without a price: the run shows it as "no price". A replay's copy
    of a recorded call is none: it cost nothing, as it was not called again."""
    if row["step_type"] != StepType.LLM_CALL or row["cost_usd"] is not None or row["status"] == StepStatus.RUNNING:
        return False
    return not (isinstance(row["metadata"], dict) and "replayed_from" in row["metadata"])


def run_cost_add(run: Run, cost, unpriced: int) -> None:
    """Adds a step's cost (or a change of it) and its count of unpriced calls to the run's totals."""
    if cost is not None:
        run.cost_usd = cost if run.cost_usd is None else run.cost_usd + cost
    run.unpriced_steps += unpriced


SEARCHED_STEP_FIELDS = ("name", "input", "output", "error")
SEARCHED_RUN_FIELDS = ("external_id", "agent_name", "input", "output", "error")


def step_document(row: dict):
    """What a step's `search` column holds (apps.runs.search): kept by the write path as it writes."""
    return document(row[name] for name in SEARCHED_STEP_FIELDS)


def run_document(run: Run):
    return document(getattr(run, name) for name in SEARCHED_RUN_FIELDS)


def step_is_error(row: dict) -> bool:
    return RunStep.error_in(status=row["status"], error=row["error"], step_type=row["step_type"])


def not_found() -> ApplicationError:
    return ApplicationError("Not found.", status=404)


def run_id_taken() -> ApplicationError:
    return ApplicationError(
        "This run id is already taken.", errors={"id": ["Already taken: choose another id."]}, status=409
    )


def step_id_taken() -> ApplicationError:
    return ApplicationError(
        "This step id is already taken.", errors={"id": ["Already taken: choose another id."]}, status=409
    )


def step_parent_unknown() -> ApplicationError:
    return ApplicationError("parent_id: no such step in this run.", errors={"parent_id": ["No such step in this run."]})


def step_index_taken(step_index: int) -> ApplicationError:
    message = f"Step index {step_index} is already taken in this run."
    return ApplicationError(message, errors={"step_index": [message]}, status=409)


def metadata_merged(current: dict | None, update: dict | None) -> dict | None:
    """Metadata sent by an update is merged (shallowly) into what is stored; `null` clears it."""
    if update is None:
        return None
    return {**(current or {}), **update}


def latency_between(start: datetime | None, end: datetime | None) -> int | None:
    latency = ms_between(start, end)
    return None if latency is None else min(latency, INT_MAX)
