"""Spans of one trace in any order, over several requests: linked, in start order, the run ended by
its root, and judged then."""

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.ingest.tests.otlp_spans import agent_trace, post, protobuf_body, record
from apps.runs.models import Run
from apps.runs.timeline import timeline_steps, timeline_window
from apps.testing.models import TestRun
from apps.testing.services import test_create

pytestmark = pytest.mark.django_db

NAMES = ["invoke_agent support", "chat gpt-4o", "lookup_order", "db query", "chat gpt-4o"]  # in start order


def the_run(project) -> Run:
    return Run.objects.get(project=project)


def shape(run: Run) -> list[tuple[int, str, str | None]]:
    """(index, name, parent's name) of each step, in index order."""
    steps = list(run.steps.order_by("step_index"))
    names = {step.pk: step.name for step in steps}
    return [(step.step_index, step.name, names.get(step.parent_id)) for step in steps]


EXPECTED = [
    (0, "invoke_agent support", None),
    (1, "chat gpt-4o", "invoke_agent support"),
    (2, "lookup_order", "invoke_agent support"),
    (3, "db query", "lookup_order"),
    (4, "chat gpt-4o", "invoke_agent support"),
]


def by_name(spans, *names):
    return [span for span in spans if span.name in names]


def test_each_span_in_its_own_request_as_it_ends_children_first_root_last(ingest, project):
    spans = record(agent_trace)  # in the order they ended: what SimpleSpanProcessor sends one by one
    for span in spans[:-1]:
        assert post(ingest, protobuf_body([span])).status_code == 200
        run = the_run(project)
        assert run.status == "running" and run.ended_at is None
    assert post(ingest, protobuf_body(spans[-1:])).status_code == 200
    run = the_run(project)
    assert shape(run) == EXPECTED
    assert run.status == "completed" and run.ended_at is not None and run.step_count == 5
    assert run.agent_name == "support" and run.steps_awaiting_parent == 0
    assert run.started_at == run.steps.get(step_index=0).started_at


def test_the_root_in_the_middle_and_a_resent_request(ingest, project):
    spans = record(agent_trace)
    root = [span for span in spans if span.parent is None]
    first = by_name(spans, "db query", "chat gpt-4o")
    rest = [span for span in spans if span not in first and span not in root]
    for part in (first, root, rest, first):
        assert post(ingest, protobuf_body(part)).status_code == 200
    run = the_run(project)
    assert shape(run) == EXPECTED and run.step_count == 5 and run.status == "completed"


def test_spans_of_one_trace_from_two_scopes_and_two_services(ingest, project):
    """A trace crossing two services: each exports its own spans, with its own resource and scope."""
    exporters = {name: InMemorySpanExporter() for name in ("gateway", "worker")}
    providers = {}
    for name, exporter in exporters.items():
        providers[name] = TracerProvider(resource=Resource.create({"service.name": name}))
        providers[name].add_span_processor(SimpleSpanProcessor(exporter))
    gateway = providers["gateway"].get_tracer("gateway.http")
    worker = providers["worker"].get_tracer("worker.jobs")
    with (
        gateway.start_as_current_span("handle request"),
        worker.start_as_current_span("job"),
        worker.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}),
    ):
        pass
    assert post(ingest, protobuf_body(exporters["worker"].get_finished_spans())).status_code == 200
    assert post(ingest, protobuf_body(exporters["gateway"].get_finished_spans())).status_code == 200
    run = the_run(project)
    assert shape(run) == [(0, "handle request", None), (1, "job", "handle request"), (2, "chat", "job")]
    assert run.agent_name == "handle request" and run.metadata["resource"]["service.name"] == "gateway"
    scopes = {step.name: step.metadata["otel"]["scope"]["name"] for step in run.steps.all()}
    assert scopes == {"handle request": "gateway.http", "job": "worker.jobs", "chat": "worker.jobs"}


def test_the_run_is_judged_when_its_root_arrives(ingest, project, django_capture_on_commit_callbacks):
    config = {"target": {"agent_name": "support"}, "assertions": [{"op": "no_errors"}]}
    judged = test_create(project=project, name="no errors", test_type="assertion", config=config)
    spans = record(lambda tracer: agent_trace(tracer, fail=True))
    with django_capture_on_commit_callbacks(execute=True):
        post(ingest, protobuf_body(spans[:-1]))
    assert not TestRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        post(ingest, protobuf_body(spans[-1:]))
    verdict = TestRun.objects.get(test=judged, run=the_run(project))
    assert verdict.status == "failed"  # the tool's error is an error step


def test_the_timeline_pages_a_reversed_trace_in_start_order(ingest, project):
    def wide(tracer):
        with tracer.start_as_current_span("agent"):
            for number in range(24):
                with (
                    tracer.start_as_current_span(f"step {number:02}"),
                    tracer.start_as_current_span(f"inner {number:02}"),
                ):
                    pass

    spans = record(wide)
    for start in range(len(spans) - 7, -7, -7):  # the last spans to end first, seven a request
        post(ingest, protobuf_body(spans[max(start, 0) : start + 7]))
    run = the_run(project)
    seen, after = [], None
    while True:
        window = timeline_window(run=run, steps=timeline_steps(run=run), after=after, size=10)
        seen += [(entry.index, entry.name, entry.depth) for entry in window.entries]
        if not window.has_after:
            break
        after = window.last_index
    expected = [(0, "agent", 0)]
    for number in range(24):
        expected += [(len(expected), f"step {number:02}", 1), (len(expected) + 1, f"inner {number:02}", 2)]
    assert seen == expected


def test_a_depth_looked_at_before_the_parent_came_is_not_kept(ingest, project):
    def nested(tracer):
        with tracer.start_as_current_span("root"), tracer.start_as_current_span("a"), tracer.start_as_current_span("b"):
            pass

    spans = record(nested)  # b, a, root
    post(ingest, protobuf_body(spans[:2]))
    run = the_run(project)
    window = timeline_window(run=run, steps=timeline_steps(run=run), after=0)  # b alone: a looked up, outside it
    assert [(entry.name, entry.depth) for entry in window.entries] == [("b", 1)]
    post(ingest, protobuf_body(spans[2:]))
    run = the_run(project)
    window = timeline_window(run=run, steps=timeline_steps(run=run), after=1)
    assert [(entry.name, entry.depth) for entry in window.entries] == [("b", 2)]
