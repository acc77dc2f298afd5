"""The write path as the OpenTelemetry mapper will use it: runs found (or made) by external id, steps
by client id, and a parent that arrives after its child, in a later call."""

import uuid

import pytest

from apps.runs.models import Run, RunStep
from apps.runs.writes import runs_write

pytestmark = pytest.mark.django_db

TRACE = "trace-4bf92f3577b34da6a3ce929d0e0e4736"


def spans(project, *events, parents_may_wait=True):
    """One export: the trace's run (created the first time) and its spans, as the mapper writes them."""
    run = ("run.create", {"external_id": TRACE, "agent_name": "otel-agent"})
    written = runs_write(project_id=project.pk, events=[run, *events], parents_may_wait=parents_may_wait)
    return [result.status for result in written.results]


def span(step_id, parent_id=None, **fields):
    return ("step.create", {"run_external_id": TRACE, "id": step_id, "parent_id": parent_id, **fields})


def test_a_trace_is_one_run_found_by_its_external_id(project):
    root, tool = uuid.uuid4(), uuid.uuid4()
    assert spans(project, span(root, step_type="custom", name="agent")) == [201, 201]
    assert spans(project, span(tool, root, step_type="tool_call", output=1), span(root, step_type="custom")) == [
        200,
        201,
        200,
    ]
    run = Run.objects.get(external_id=TRACE)
    assert (run.step_count, RunStep.objects.get(pk=tool).parent_id) == (2, root)


def test_a_child_arriving_before_its_parent_is_linked_when_the_parent_comes(project):
    root, child, grandchild = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert spans(project, span(grandchild, child, step_type="llm_call")) == [201, 201]
    waiting = RunStep.objects.get(pk=grandchild)
    assert (waiting.parent_id, waiting.parent_pending_id) == (None, child)
    assert Run.objects.get().steps_awaiting_parent == 1
    # the middle span comes next, naming a parent that is still to come, then the root, in one export
    assert spans(project, span(child, root, step_type="tool_call"), span(root, step_type="custom")) == [200, 201, 201]
    steps = {step.pk: step for step in RunStep.objects.all()}
    assert (steps[grandchild].parent_id, steps[grandchild].parent_pending_id) == (child, None)
    assert (steps[child].parent_id, steps[child].parent_pending_id) == (root, None)
    assert Run.objects.get().steps_awaiting_parent == 0


def test_without_the_opt_in_an_unknown_parent_is_refused(project):
    statuses = spans(project, span(uuid.uuid4(), uuid.uuid4(), step_type="custom"), parents_may_wait=False)
    assert statuses == [201, 400]
    assert not RunStep.objects.exists()


def test_a_parent_in_another_run_is_refused_even_with_the_opt_in(project):
    other = runs_write(project_id=project.pk, events=[("run.create", {"agent_name": "other"})]).results[0].run
    elsewhere = runs_write(
        project_id=project.pk, events=[("step.create", {"run_id": other.pk, "step_type": "custom"})]
    ).results[0]
    assert spans(project, span(uuid.uuid4(), elsewhere.id, step_type="custom")) == [201, 400]


def test_a_run_with_no_step_waiting_links_nothing(project, django_assert_num_queries):
    spans(project, span(uuid.uuid4(), step_type="custom"))
    # the lock, the insert, the run's counters: no look for waiting children
    with django_assert_num_queries(5):  # + the savepoint's two
        assert spans(project, span(uuid.uuid4(), step_type="custom"))[1] == 201
