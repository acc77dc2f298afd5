"""The reads under the pages: timeline windows and depths, cursors, the agent names of a project."""

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache

from apps.projects.services import project_create
from apps.runs.models import RunStatus, RunStep
from apps.runs.selectors import RunCursor, run_agent_names
from apps.runs.tests.conftest import T0, add_steps
from apps.runs.timeline import step_depths, timeline_steps, timeline_window

pytestmark = pytest.mark.django_db


def window(run, **kwargs):
    return timeline_window(run=run, steps=timeline_steps(run=run), **kwargs)


def test_depth_of_steps_whose_parents_are_outside_the_window(long_run, django_assert_num_queries):
    cache.clear()
    with django_assert_num_queries(2):  # the window, then its first step's parent (step 200)
        entries = window(long_run, after=201, size=3).entries
    assert [(e.index, e.depth) for e in entries] == [(202, 1), (203, 1), (204, 1)]
    with django_assert_num_queries(1):  # the parent's depth is cached now
        assert [e.depth for e in window(long_run, after=202, size=2).entries] == [1, 1]


def test_deep_chains_and_loops_end(make_run):
    run = make_run(end=False)
    chain = add_steps(run, [{"step_type": "custom", "name": "root"}])
    for i in range(30):
        chain += add_steps(run, [{"step_type": "custom", "name": f"n{i}", "parent_id": chain[-1].pk}])
    depths = step_depths(run=run, rows=chain[-2:])
    assert depths[chain[-1].pk] == 30
    a, b = add_steps(run, [{"step_type": "custom", "name": "a"}, {"step_type": "custom", "name": "b"}])
    RunStep.objects.filter(pk=a.pk).update(parent=b)
    RunStep.objects.filter(pk=b.pk).update(parent=a)
    looped = list(RunStep.objects.filter(pk__in=[a.pk, b.pk]))
    assert sorted(step_depths(run=run, rows=looped).values()) == [0, 1]


def test_entries_carry_offsets_bars_and_tones(make_run):
    run = make_run(end=False, status=RunStatus.PAUSED)
    add_steps(
        run,
        [
            {"step_type": "llm_call", "name": "ok", "started_at": T0, "ended_at": T0 + timedelta(seconds=1)},
            {"step_type": "tool_call", "name": "bad", "started_at": T0, "error": {"message": "x"}},
            {"step_type": "tool_call", "name": "warned", "output": 1, "metadata": {"warning": "slow"}},
            {"step_type": "tool_call", "name": "waiting", "started_at": T0 + timedelta(seconds=2)},
        ],
    )
    now = T0 + timedelta(seconds=10)
    shown = window(run, now=now)
    ok, bad, warned, waiting = shown.entries
    assert shown.total_ms == 10_000  # a live run is as long as it has been going
    assert (ok.start_ms, ok.duration_ms, ok.tone) == (0, 1000, "success")
    assert bad.tone == "error" and bad.has_error
    assert warned.tone == "warning"
    assert waiting.tone == "warning" and waiting.waiting and waiting.duration_ms == 8000
    assert bad.bar_width == 10_000 * 0.004  # an instant step still shows
    assert shown.running_indexes == [3]


def test_around_centres_the_window(long_run):
    shown = window(long_run, around=5, size=10)
    assert [e.index for e in shown.entries] == list(range(0, 10))
    assert not shown.has_before and shown.has_after
    middle = window(long_run, around=300, size=10)
    assert [e.index for e in middle.entries] == list(range(295, 305))
    assert middle.has_before and middle.has_after


def test_a_cursor_round_trips_and_refuses_garbage():
    cursor = RunCursor(started_at=T0, id=uuid.uuid4(), newer=True)
    assert RunCursor.decode(cursor.encode()) == cursor
    for bad in ("", "abc", "bnwx", RunCursor(T0, uuid.uuid4()).encode()[:-3], "cHx4fHk"):
        with pytest.raises(ValueError):
            RunCursor.decode(bad)


def test_agent_names_are_distinct_and_sorted(make_run, alice):
    other = project_create(user=alice, name="Other")
    for name in ("b-bot", "A-bot", "b-bot", "c-bot"):
        make_run(agent_name=name)
    make_run(project=other, agent_name="z-bot")
    assert run_agent_names(project_ids=[make_run().project_id]) == ["A-bot", "b-bot", "c-bot", "support-bot"]
    assert run_agent_names(project_ids=[other.pk]) == ["z-bot"]


def test_a_failed_rows_line_is_its_errors_message_even_from_a_cut_json_text():
    from apps.runs.timeline import error_line

    assert error_line('{"type": "KeyError", "message": "no document"}') == "no document"
    assert error_line('"plain text error"') == "plain text error"
    cut = '{"stack": "Traceback", "message": "search timed out \\"twice\\"", "detail": "' + "x" * 500
    assert error_line(cut[:400]) == 'search timed out "twice"'
    assert error_line(None) == ""


def test_failed_ancestors_are_every_step_above_a_failure(traced_run):
    from apps.runs.timeline import failed_ancestors

    lookup = traced_run.steps.get(name="lookup")
    assert failed_ancestors(run=traced_run) == {lookup.pk}
