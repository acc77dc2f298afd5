"""What the SDK's writes do. Runs and steps are stored by the one write path (apps.runs.writes),
MCP tools and calls by apps.mcp; around the write, two steps of ingest's own: the control answer
for a posted step (breakpoints) and the tests scheduled when a run ends."""

from contextlib import nullcontext
from uuid import UUID

from django.db import transaction

from apps.breakpoints.services import breakpoint_check_step
from apps.mcp.services import mcp_write
from apps.projects.models import Project
from apps.runs.writes import Result, runs_write
from apps.testing.services import tests_schedule_for_runs

MCP_EVENTS = ("mcp.tool", "mcp.log")
COST_KEYS = ("model", "provider", "usage", "cost_usd")


def step_cost_fields(data: dict) -> dict:
    """A step event's `model`, `provider`, `usage` and `cost_usd` moved into its metadata, where the
    SDK and the OTLP mapping put them and the write path prices them from."""
    if not any(key in data for key in COST_KEYS):
        return data
    data = dict(data)
    given = {key: data.pop(key) for key in COST_KEYS if key in data}
    given = {key: value for key, value in given.items() if value is not None}
    if "usage" in given:
        given["usage"] = {kind: count for kind, count in given["usage"].items() if count is not None}
    if "cost_usd" in given:
        given["cost_usd"] = str(given["cost_usd"])
    if given:
        data["metadata"] = {**(data.get("metadata") or {}), **given}
    return data


def ingest_run_write(*, project: Project, kind: str, data: dict) -> Result:
    """One run event (`run.create`, `run.update`, `run.end`); a run it leaves finished is judged by
    the enabled tests that target it."""
    written = runs_write(project_id=project.pk, events=[(kind, data)])
    tests_schedule_for_runs(runs=written.finished_runs)
    return written.results[0].get()


def ingest_step_write(*, project: Project, kind: str, data: dict) -> tuple[Result, dict]:
    """(result, control) for one step event: a step posted running, or ending in an error, may pause
    on a breakpoint it matches."""
    result = runs_write(project_id=project.pk, events=[(kind, step_cost_fields(data))]).results[0].get()
    return result, breakpoint_check_step(run=result.run, step=result.step)


def ingest_batch(*, project: Project, events: list[tuple[str, dict]]) -> list[tuple[int, UUID | Exception]]:
    """(status, id or error) per event, in order: runs and steps through the write path, then MCP
    tools and calls through apps.mcp, in one transaction (each is one already when alone)."""
    run_events = [(kind, step_cost_fields(data)) for kind, data in events if kind not in MCP_EVENTS]
    mcp_events = [event for event in events if event[0] in MCP_EVENTS]
    with transaction.atomic() if run_events and mcp_events else nullcontext():
        written = runs_write(project_id=project.pk, events=run_events)
        mcp = iter(mcp_write(project=project, events=mcp_events))
        tests_schedule_for_runs(runs=written.finished_runs)
    runs = iter(written.results)
    answers = []
    for kind, _ in events:
        if kind in MCP_EVENTS:
            answers.append(next(mcp))
        else:
            result = next(runs)
            answers.append((result.status, result.error or result.id))
    return answers
