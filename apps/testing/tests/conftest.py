"""Runs to judge: a support bot that answers 42 after planning, searching and calculating."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import Run, RunStep
from apps.testing.services import test_create

DEMO_STEPS = [
    {
        "step_type": "llm_call",
        "name": "plan",
        "input": {"prompt": "plan"},
        "output": {"plan": "search"},
        "tokens_used": 100,
    },
    {
        "step_type": "tool_call",
        "name": "search",
        "input": {"q": "6*7"},
        "output": {"hits": [{"id": 1, "title": "Times"}]},
    },
    {"step_type": "tool_call", "name": "calculator", "input": {"expr": "6*7"}, "output": {"value": 42}},
    {
        "step_type": "llm_call",
        "name": "answer",
        "input": {"prompt": "answer"},
        "output": {"text": "42"},
        "tokens_used": 250,
    },
]


@pytest.fixture
def make_run(project):
    def make(*, steps=DEMO_STEPS, agent_name="support-bot", status="completed", **fields):
        now = timezone.now()
        values = {
            "project": project,
            "input": {"messages": [{"role": "user", "content": "What is 6*7?"}]},
            "output": {"answer": "42", "sources": ["calc"]},
            "metadata": {"env": "prod"},
            "started_at": now - timedelta(seconds=2),
            "ended_at": now if status in ("completed", "failed") else None,
            "duration_ms": 1200,
            "total_tokens": 350,
            "step_count": len(steps),
            **fields,
        }
        run = Run.objects.create(agent_name=agent_name, status=status, **values)
        RunStep.objects.bulk_create(RunStep(run=run, step_index=i, **step) for i, step in enumerate(steps))
        return run

    return make


@pytest.fixture
def demo_run(make_run):
    return make_run()


ASSERTIONS = [
    {"path": "output.answer", "op": "equals", "value": "42"},
    {"metric": "latency_ms", "op": "lt", "value": 5000},
    {"op": "step_called", "step_type": "tool_call", "name": "search", "min": 1},
    {"op": "no_errors"},
]


@pytest.fixture
def make_test(project):
    def make(*, test_type="assertion", name="answers 42", project=project, **config):
        config = {"target": {"agent_name": "support-bot"}, **config}
        if test_type == "assertion":
            config.setdefault("assertions", ASSERTIONS)
        return test_create(project=project, name=name, test_type=test_type, config=config)

    return make


@pytest.fixture
def assertion_test(make_test):
    return make_test()
