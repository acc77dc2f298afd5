"""The ingest answers built directly (run_output, step_output) equal their serializers' output."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.ingest.serializers import IngestRunOutput, IngestStepOutput, run_output, step_output
from apps.runs.models import Run, RunStep
from apps.runs.services import run_create

pytestmark = pytest.mark.django_db

PLUS_TWO = timezone(timedelta(hours=2))


def values(step: RunStep) -> dict:
    """A step's values as the write path holds them."""
    return {field.attname: getattr(step, field.attname) for field in RunStep._meta.concrete_fields}


def test_a_bare_run_and_step_match(project):
    run = run_create(project=project, agent_name="bot")[0]
    step = RunStep.objects.create(run=run, step_index=0, step_type="custom")
    for obj in (run, Run.objects.get(pk=run.pk)):
        assert run_output(obj) == IngestRunOutput(obj).data
    for obj in (step, RunStep.objects.get(pk=step.pk)):
        assert step_output(values(obj)) == IngestStepOutput(obj).data


def test_a_full_run_and_step_match(project):
    source = run_create(project=project, agent_name="bot")[0]
    run = Run.objects.create(
        project=project, external_id="e-1", agent_name="bot", status="failed", input={"q": [1, None]},
        output="x", metadata={"k": "v"}, error={"m": "boom"}, started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO),
        ended_at=datetime(2026, 1, 2, 3, 4, 6, 123456, tzinfo=UTC), replay_of=source, replay_from_step=3,
        step_count=2, error_count=1, total_tokens=2**40, duration_ms=1000,
    )  # fmt: skip
    parent = RunStep.objects.create(run=run, step_index=0, step_type="llm_call")
    step = RunStep.objects.create(
        id=uuid.uuid4(), run=run, parent=parent, step_index=1, step_type="tool_call", name="search", status="failed",
        input=[1, 2], output={"a": None}, metadata={"k": 1}, error="boom", tokens_used=12, latency_ms=0,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO), ended_at=datetime(2026, 1, 2, 1, 4, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    for obj in (run, Run.objects.get(pk=run.pk)):
        assert run_output(obj) == IngestRunOutput(obj).data
    for obj in (step, RunStep.objects.get(pk=step.pk)):
        assert step_output(values(obj)) == IngestStepOutput(obj).data
    assert step_output(values(step))["started_at"] == "2026-01-02T01:04:05Z"


def test_the_step_endpoint_answers_with_every_key(ingest, project):
    run = run_create(project=project, agent_name="bot")[0]
    response = ingest.post(f"/api/ingest/run/{run.id}/step", {"step_type": "llm_call", "output": 1}, format="json")
    step = RunStep.objects.get(pk=response.json()["id"])
    assert response.json() == {**IngestStepOutput(step).data, "control": {"action": "continue"}}
