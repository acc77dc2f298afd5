"""Runs to read: built with the runs services, as the ingest API builds them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import RunStep
from apps.runs.services import run_create, run_end, step_create

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def add_steps(run, steps: list[dict]):
    """Adds steps through the service (counters, status and parent checks included); returns them."""
    return [step_create(run=run, data=data)[0] for data in steps]


@pytest.fixture
def make_run(project):
    def make(*, project=project, agent_name="support-bot", started_at=None, steps=(), end=True, error=None, **fields):
        run = run_create(project=project, agent_name=agent_name, started_at=started_at or T0, **fields)[0]
        add_steps(run, list(steps))
        if end:
            ended = {"ended_at": (started_at or T0) + timedelta(seconds=3), "error": error, "output": {"answer": 42}}
            run = run_end(project=project, run_id=run.pk, data=ended if error else {**ended, "error": None})
        run.refresh_from_db()
        return run

    return make


@pytest.fixture
def traced_run(make_run):
    """plan (LLM) → lookup (custom) with two tool calls inside, one failing → answer (LLM)."""
    run = make_run(agent_name="research-assistant", input={"question": "Why is Mars red?"}, end=False)
    at = T0
    _plan, lookup = add_steps(
        run,
        [
            {
                "step_type": "llm_call",
                "name": "plan",
                "input": {"messages": [{"role": "user", "content": "Why is Mars red?"}]},
                "output": {"choices": [{"message": {"role": "assistant", "content": "Look it up."}}]},
                "metadata": {"model": "gpt-4o-mini", "prompt_tokens": 12, "completion_tokens": 4},
                "tokens_used": 16,
                "started_at": at,
                "ended_at": at + timedelta(milliseconds=400),
            },
            {
                "step_type": "custom",
                "name": "lookup",
                "input": {"topic": "mars"},
                "output": {"found": True},
                "started_at": at + timedelta(milliseconds=400),
                "ended_at": at + timedelta(milliseconds=1400),
            },
        ],
    )
    add_steps(
        run,
        [
            {
                "step_type": "tool_call",
                "name": "search",
                "parent_id": lookup.pk,
                "input": {"q": "mars colour"},
                "error": {"type": "TimeoutError", "message": "search timed out", "traceback": "Traceback..."},
                "started_at": at + timedelta(milliseconds=400),
                "ended_at": at + timedelta(milliseconds=900),
            },
            {
                "step_type": "tool_call",
                "name": "read_document",
                "parent_id": lookup.pk,
                "input": {"id": "mars"},
                "output": {"text": "Iron oxide."},
                "started_at": at + timedelta(milliseconds=900),
                "ended_at": at + timedelta(milliseconds=1400),
            },
            {
                "step_type": "llm_call",
                "name": "answer",
                "input": {"question": "Why is Mars red?"},
                "output": {"text": "Rust."},
                "tokens_used": 30,
                "started_at": at + timedelta(milliseconds=1400),
                "ended_at": at + timedelta(milliseconds=2000),
            },
        ],
    )
    run = run_end(project=run.project, run_id=run.pk, data={"ended_at": at + timedelta(seconds=2)})
    run.refresh_from_db()
    return run


@pytest.fixture
def long_run(make_run):
    """A run of 450 steps, in groups of five: a parent then four children."""
    run = make_run(agent_name="long-run")
    steps, parent = [], None
    for index in range(450):
        step = RunStep(
            run=run,
            step_index=index,
            step_type="tool_call" if index % 5 else "custom",
            name=f"step-{index}",
            input={"i": index},
            output={"ok": True},
            latency_ms=100,
            started_at=T0 + timedelta(milliseconds=index * 10),
            parent_id=parent if index % 5 else None,
        )
        if index % 5 == 0:
            parent = step.id
        steps.append(step)
    RunStep.objects.bulk_create(steps)
    run.step_count = 450
    run.save(update_fields=["step_count"])
    return run
