"""Each pause as an event of the run's timeline: what it says for every way a pause ends."""

from datetime import timedelta

import pytest

from apps.breakpoints.models import BreakpointHit, HitAction, HitStatus
from apps.breakpoints.services import breakpoint_check_step
from apps.breakpoints.timeline import pause_event, pause_events


@pytest.fixture
def hit(run, make_step, make_breakpoint):
    make_breakpoint(name="Before search")
    step = make_step(run)
    return BreakpointHit.objects.get(pk=breakpoint_check_step(run=run, step=step)["hit_id"])


def test_a_waiting_pause_lasts_until_someone_decides(hit):
    event = pause_event(hit)
    assert (event.title, event.summary, event.end) == ("Paused at “Before search”", "waiting for a decision", None)
    assert event.details == (("Input when it paused", {"query": "weather in Paris"}),)


def test_an_abort_says_who_aborted(hit, alice):
    hit.status, hit.action, hit.resolved_by = HitStatus.ABORTED, HitAction.ABORT, alice
    hit.resolved_at = hit.created_at + timedelta(seconds=3)
    event = pause_event(hit)
    assert (event.summary, event.tone, event.end - event.start) == (
        "Alice aborted the run",
        "error",
        timedelta(seconds=3),
    )


def test_a_timed_out_pause_lasts_what_the_sdk_waited(hit):
    hit.status, hit.action, hit.timed_out, hit.waited_ms = HitStatus.RESUMED, HitAction.CONTINUE, True, 30_000
    event = pause_event(hit)
    assert event.summary == "no one decided in time: the agent went on"
    assert event.end - event.start == timedelta(seconds=30)


def test_the_events_of_a_window_come_in_one_query(hit, run, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert [event.step_index for event in pause_events(run=run, first=0, last=10)] == [0]
    assert pause_events(run=run, first=1, last=10) == []
