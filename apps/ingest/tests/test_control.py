"""The pause protocol's poll under ingest's conventions: key auth, ingest's parser, and a throttle
of its own that a waiting agent never meets while a flood still does."""

import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache

from apps.breakpoints.models import Breakpoint, BreakpointHit
from apps.ingest.throttling import IngestControlThrottle, IngestThrottle

pytestmark = pytest.mark.django_db


class Clock:
    """The throttles' clock (DRF's `timer`), moved by hand so minutes of polling take no time."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(IngestThrottle, "timer", clock)
    return clock


@pytest.fixture
def paused(ingest, run, project):
    """A step waiting at a breakpoint, posted as the SDK posts it: (control url, hit id)."""
    Breakpoint.objects.create(project=project, condition_type="step_type", condition_value={"step_type": "tool_call"})
    answer = ingest.post(f"/api/ingest/run/{run.id}/step", {"step_type": "tool_call", "input": {}}, format="json")
    assert answer.json()["control"]["action"] == "pause"
    return f"/api/ingest/run/{run.id}/control", answer.json()["control"]["hit_id"]


def limit(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_it_answers_the_poll_and_the_timeout(ingest, paused):
    url, hit_id = paused
    assert ingest.get(url, {"hit_id": hit_id}).json() == {"action": "pause", "hit_id": hit_id}
    response = ingest.post(url, {"hit_id": hit_id, "timed_out": True, "waited_ms": 5}, format="json")
    assert response.json() == {"action": "continue", "hit_id": hit_id, "timed_out": True}
    assert BreakpointHit.objects.get(pk=hit_id).waited_ms == 5


def test_it_requires_the_key_and_checks_ownership(client, ingest, bob_ingest, paused):
    url, hit_id = paused
    assert client.get(url, {"hit_id": hit_id}).status_code == 401
    assert bob_ingest.get(url, {"hit_id": hit_id}).status_code == 404
    assert ingest.get(url, {"hit_id": str(uuid.uuid4())}).status_code == 404


def test_it_takes_json_through_the_ingest_parser(ingest, paused):
    url, _ = paused
    response = ingest.generic("POST", url, '{"hit_id": NaN}', content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"].startswith("Malformed JSON")


def test_a_paused_agent_polling_at_its_fastest_is_never_refused(ingest, paused, clock, settings):
    """240 polls a minute (every 0.25 s) for three minutes, while writes use up the ingest scope."""
    limit(settings, ingest="2/min")
    url, hit_id = paused
    statuses = set()
    for poll in range(3 * 240):
        clock.now += 0.25
        statuses.add(ingest.get(url, {"hit_id": hit_id}).status_code)
        if poll % 60 == 0:
            ingest.post("/api/ingest/run", {"agent_name": "busy"}, format="json")
    assert statuses == {200}
    writes = [ingest.post("/api/ingest/run", {"agent_name": "busy"}, format="json").status_code for _ in range(3)]
    assert 429 in writes  # the writes' own scope is used up


def test_a_flood_of_polls_is_refused(ingest, paused, clock, settings):
    limit(settings, ingest_control="10/min")
    url, hit_id = paused
    assert [ingest.get(url, {"hit_id": hit_id}).status_code for _ in range(10)] == [200] * 10
    refused = ingest.get(url, {"hit_id": hit_id})
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    clock.now += 60  # a minute later the sliding window still holds part of the last one
    assert ingest.get(url, {"hit_id": hit_id}).status_code == 200


def test_the_default_rate_lets_a_dozen_steps_wait_at_their_fastest():
    number, seconds = IngestControlThrottle().parse_rate(IngestControlThrottle().get_rate())
    assert number / seconds * 60 >= 12 * 240


class TestSlidingWindow:
    """The counters' arithmetic, on the ingest scope (one key, its clock moved by hand)."""

    def test_the_last_window_counts_less_as_it_slides(self, ingest, clock, settings):
        limit(settings, ingest="4/min")
        clock.now = 60 * 1000  # the start of a window

        def post():
            return ingest.post("/api/ingest/run", {"agent_name": "a"}, format="json")

        assert [post().status_code for _ in range(4)] == [201] * 4
        clock.now += 30
        refused = post()
        assert refused.status_code == 429 and refused["Retry-After"] == "30"  # this window is full
        clock.now += 45  # a quarter into the next one: the last counts 4 x 0.75 = 3, one more fits
        assert [post().status_code for _ in range(2)] == [201, 429]
        clock.now += 30  # three quarters in: 4 x 0.25 + 1 = 2, two more fit
        assert [post().status_code for _ in range(3)] == [201, 201, 429]


class CountingCache(LocMemCache):
    """Django's local-memory cache, counting the calls a request makes (a shared cache is a round trip each)."""

    calls: list[str] = []

    def get(self, *args, **kwargs):
        self.calls.append("get")
        return super().get(*args, **kwargs)

    def incr(self, *args, **kwargs):
        self.calls.append("incr")
        return super().incr(*args, **kwargs)

    def add(self, *args, **kwargs):
        self.calls.append("add")
        return super().add(*args, **kwargs)


def test_an_allowed_request_costs_at_most_one_call_to_the_cache(ingest, clock, settings):
    counting = {"BACKEND": f"{__name__}.CountingCache", "LOCATION": "throttle-calls"}
    settings.CACHES = {**settings.CACHES, "throttles": counting}
    limit(settings, ingest="200/min")  # leases of two requests
    clock.now = 60 * 1000
    CountingCache.calls.clear()
    assert ingest.post("/api/ingest/run", {"agent_name": "a"}, format="json").status_code == 201
    assert CountingCache.calls == ["get", "incr", "add"]  # the last window's count, once; this one's, new
    CountingCache.calls.clear()
    for _ in range(5):
        ingest.post("/api/ingest/run", {"agent_name": "a"}, format="json")
    assert CountingCache.calls == ["incr", "incr"]  # the lease's second request, then a lease every two
