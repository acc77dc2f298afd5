"""The write path as the OpenTelemetry mapper will use it: runs found (or made) by external id, steps
by client id, and a parent that arrives after its child, in a later call."""

import uuid
from datetime import UTC, datetime

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


def started(minute: int):
    return datetime(2026, 12, 7, 10, minute, tzinfo=UTC)


def timed(name: str, minute: int, parent=None, *, length: int = 1) -> tuple[str, dict]:
    step_id = uuid.uuid5(uuid.NAMESPACE_DNS, name)
    return span(
        step_id, parent, step_type="custom", name=name, started_at=started(minute), ended_at=started(minute + length)
    )


def ordered() -> list[tuple[int, str]]:
    return list(RunStep.objects.order_by("step_index").values_list("step_index", "name"))


def write_in_start_order(project, *events):
    run = ("run.create", {"external_id": TRACE, "agent_name": "otel-agent"})
    return runs_write(project_id=project.pk, events=[run, *events], parents_may_wait=True, in_start_order=True)


def test_in_start_order_a_later_write_of_earlier_steps_renumbers_the_run(project):
    root = uuid.uuid5(uuid.NAMESPACE_DNS, "root")
    write_in_start_order(project, timed("c", 5, root), timed("d", 7, root))
    assert ordered() == [(0, "c"), (1, "d")]
    write_in_start_order(project, timed("b", 3, root), timed("e", 8, root))
    assert ordered() == [(0, "b"), (1, "c"), (2, "d"), (3, "e")]
    write_in_start_order(project, timed("root", 1, length=10))
    assert ordered() == [(0, "root"), (1, "b"), (2, "c"), (3, "d"), (4, "e")]
    run = Run.objects.get()
    assert (run.step_count, run.next_step_index, run.steps_awaiting_parent) == (5, 5, 0)
    assert (
        runs_write(project_id=project.pk, events=[("step.create", {"run_id": run.pk, "step_type": "custom"})])
        .results[0]
        .row["step_index"]
        == 5
    )


def test_a_parent_that_started_with_its_child_comes_first(project):
    root = uuid.uuid5(uuid.NAMESPACE_DNS, "root")
    write_in_start_order(project, timed("child", 1, root, length=1))
    write_in_start_order(project, timed("root", 1, length=5))
    assert ordered() == [(0, "root"), (1, "child")]


def test_without_the_opt_in_indexes_keep_the_order_of_arrival(project):
    spans(project, timed("late", 5))
    spans(project, timed("early", 1))
    assert ordered() == [(0, "late"), (1, "early")]


def test_an_update_moves_the_start_earlier_never_later_and_names_the_run(project):
    create = {"external_id": TRACE, "agent_name": "otel-agent", "started_at": started(5)}
    runs_write(project_id=project.pk, events=[("run.create", create)])
    run = Run.objects.get()
    update = {"run_external_id": TRACE, "agent_name": "support", "input": {"q": 1}}
    runs_write(project_id=project.pk, events=[("run.update", {**update, "started_at": started(9)})])
    run.refresh_from_db()
    assert (run.agent_name, run.input, run.started_at) == ("support", {"q": 1}, started(5))
    runs_write(project_id=project.pk, events=[("run.end", {"run_external_id": TRACE, "ended_at": started(10)})])
    runs_write(project_id=project.pk, events=[("run.update", {"run_external_id": TRACE, "started_at": started(2)})])
    run.refresh_from_db()
    assert (run.started_at, run.duration_ms, run.status) == (started(2), 8 * 60_000, "completed")
