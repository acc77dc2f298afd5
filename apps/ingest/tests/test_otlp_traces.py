"""Traces through the endpoint: ids, re-sends, several traces and requests, tenancy."""

import pytest

from apps.ingest.tests.otlp_spans import JSON, agent_trace, json_body, post, protobuf_body, record
from apps.runs.models import Run, RunStep

pytestmark = pytest.mark.django_db


def tree(run: Run) -> list[tuple]:
    """The run's steps as (index, span id, parent's span id, type, name), in index order."""
    steps = list(run.steps.order_by("step_index"))
    span_of = {step.pk: step.metadata["otel"]["span_id"] for step in steps}
    return [
        (step.step_index, span_of[step.pk], span_of.get(step.parent_id), step.step_type, step.name) for step in steps
    ]


def test_the_same_trace_as_protobuf_and_as_json_gives_the_same_ids(ingest, bob_ingest, project, bob_project):
    spans = record(agent_trace)
    assert post(ingest, protobuf_body(spans)).status_code == 200
    assert post(bob_ingest, json_body(spans), JSON).status_code == 200
    ours, theirs = Run.objects.get(project=project), Run.objects.get(project=bob_project)
    assert ours.external_id == theirs.external_id == format(spans[0].context.trace_id, "032x")
    assert tree(ours) == tree(theirs)
    assert {span_id for _, span_id, *_ in tree(ours)} == {format(span.context.span_id, "016x") for span in spans}


def test_a_resent_batch_changes_nothing(ingest, project):
    body = protobuf_body(record(agent_trace))
    post(ingest, body)
    run = Run.objects.get(project=project)
    before = (tree(run), run.step_count, run.total_tokens, run.ended_at, run.status)
    assert post(ingest, body).status_code == 200
    run.refresh_from_db()
    assert (tree(run), run.step_count, run.total_tokens, run.ended_at, run.status) == before
    assert RunStep.objects.count() == 5


def test_two_traces_in_one_request_are_two_runs(ingest, project):
    first, second = record(agent_trace), record(lambda tracer: agent_trace(tracer, fail=True))
    assert post(ingest, protobuf_body(first + second)).status_code == 200
    runs = Run.objects.filter(project=project).order_by("error_count")
    assert [(run.step_count, run.error_count, run.status) for run in runs] == [(5, 0, "completed"), (5, 1, "completed")]
    assert runs[0].external_id != runs[1].external_id


def test_the_root_first_then_its_children_in_another_request(ingest, project):
    spans = record(agent_trace)
    root = [span for span in spans if span.parent is None]
    assert post(ingest, protobuf_body(root)).status_code == 200
    run = Run.objects.get(project=project)
    assert run.status == "completed" and run.step_count == 1
    assert post(ingest, protobuf_body([span for span in spans if span.parent is not None])).status_code == 200
    run.refresh_from_db()
    assert run.step_count == 5 and run.status == "completed"
    steps = tree(run)
    assert steps[0][2] is None and all(parent is not None for _, _, parent, *_ in steps[1:])


def test_a_key_never_adds_spans_to_another_projects_trace(ingest, bob_ingest, project, bob_project):
    spans = record(agent_trace)
    post(bob_ingest, protobuf_body(spans[:3]))
    bobs = Run.objects.get(project=bob_project)
    bobs_tree = tree(bobs)
    assert post(ingest, protobuf_body(spans)).status_code == 200
    bobs.refresh_from_db()
    assert tree(bobs) == bobs_tree and bobs.step_count == 3
    ours = Run.objects.get(project=project)
    assert ours.external_id == bobs.external_id and ours.pk != bobs.pk and ours.step_count == 5
