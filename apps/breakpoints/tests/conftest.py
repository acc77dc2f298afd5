import pytest
from django.utils import timezone

from apps.breakpoints.models import Breakpoint
from apps.runs.models import Run, RunStatus, RunStep, StepStatus


@pytest.fixture
def run(project):
    return Run.objects.create(project=project, agent_name="researcher", input={"question": "weather?"})


@pytest.fixture
def bob_run(bob_project):
    return Run.objects.create(project=bob_project, agent_name="researcher", status=RunStatus.PAUSED)


@pytest.fixture
def make_step():
    """A step of a run as ingest stores it: running (input, no output) unless told otherwise."""

    def make(run, *, step_type="tool_call", name="search", input=None, status=StepStatus.RUNNING, **fields):
        index = RunStep.objects.filter(run=run).count()
        step = RunStep.objects.create(
            run=run,
            step_index=index,
            step_type=step_type,
            name=name,
            input={"query": "weather in Paris"} if input is None else input,
            status=status,
            started_at=timezone.now(),
            **fields,
        )
        Run.objects.filter(pk=run.pk).update(step_count=index + 1)
        run.step_count = index + 1
        return step

    return make


@pytest.fixture
def make_breakpoint(project):
    def make(condition_type="step_name", condition_value=None, **fields):
        value = {"pattern": "search", "match": "exact"} if condition_value is None else condition_value
        return Breakpoint.objects.create(
            project=fields.pop("project", project), condition_type=condition_type, condition_value=value, **fields
        )

    return make
