"""The ingest throttle's leases: each process takes a slice of the rate from the shared count and
counts it down in memory, and the rate still holds for all processes together."""

from types import SimpleNamespace

import pytest
from django.core.cache import caches

from apps.ingest import throttling
from apps.ingest.throttling import IngestThrottle
from apps.projects.models import ApiKey

WINDOW_START = 60.0 * 1_000_000


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(WINDOW_START)
    monkeypatch.setattr(IngestThrottle, "timer", clock)
    return clock


@pytest.fixture
def rate(settings):
    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": value}}

    return set_rate


@pytest.fixture
def request_():
    return SimpleNamespace(auth=ApiKey())  # an unsaved key has its uuid: the throttle reads nothing else


class Process:
    """One worker: its own leases (module state), the shared cache and clock of all."""

    def __init__(self, monkeypatch):
        self.monkeypatch, self.leases, self.previous = monkeypatch, {}, {}

    def allow(self, request) -> bool:
        self.monkeypatch.setattr(throttling, "_LEASES", self.leases)
        self.monkeypatch.setattr(throttling, "_PREVIOUS", self.previous)
        return IngestThrottle().allow_request(request, None)


def shared_count(request) -> int:
    throttle = IngestThrottle()
    key = throttle.get_cache_key(request, None)
    return caches["throttles"].get(f"{key}:{int(WINDOW_START // 60)}", 0)


def test_a_lease_is_a_hundredth_of_the_rate_and_at_least_one(rate):
    rate("6000/min")
    assert IngestThrottle().lease_size() == 60
    rate("50/min")
    assert IngestThrottle().lease_size() == 1


def test_a_process_counts_its_lease_down_without_the_cache(rate, clock, request_, monkeypatch):
    rate("6000/min")
    process = Process(monkeypatch)
    assert process.allow(request_)
    assert shared_count(request_) == 60  # the whole lease is counted at once
    assert all(process.allow(request_) for _ in range(59))
    assert shared_count(request_) == 60  # ...and used without the cache
    assert process.allow(request_)
    assert shared_count(request_) == 120  # the next lease


@pytest.mark.parametrize("processes", [1, 2, 4])
def test_processes_together_never_pass_the_rate(rate, clock, request_, monkeypatch, processes):
    rate("300/min")  # leases of 3
    workers = [Process(monkeypatch) for _ in range(processes)]
    allowed = sum(workers[n % processes].allow(request_) for n in range(400))
    assert allowed == 300
    assert shared_count(request_) == 300
    assert not any(worker.allow(request_) for worker in workers)


def test_uneven_processes_are_refused_early_by_at_most_the_others_leases(rate, clock, request_, monkeypatch):
    rate("1000/min")  # leases of 10
    busy, idle = Process(monkeypatch), Process(monkeypatch)
    assert idle.allow(request_)  # takes a lease and uses one of its ten
    allowed = 1 + sum(busy.allow(request_) for _ in range(1200))
    assert 1000 - 9 <= allowed <= 1000
    assert sum(idle.allow(request_) for _ in range(20)) == 9  # the idle one still has its nine
    assert shared_count(request_) == 1000


def test_the_last_lease_is_cut_to_the_room_left(rate, clock, request_, monkeypatch):
    rate("300/min")
    key = IngestThrottle().get_cache_key(request_, None)
    caches["throttles"].set(f"{key}:{int(WINDOW_START // 60)}", 298)
    process = Process(monkeypatch)
    assert process.allow(request_) and process.allow(request_)  # two of a lease of three fit
    assert shared_count(request_) == 300
    assert not process.allow(request_)
    assert shared_count(request_) == 300  # a refused lease gives its count back


def test_a_lease_ends_with_its_window(rate, clock, request_, monkeypatch):
    rate("300/min")
    process = Process(monkeypatch)
    assert process.allow(request_)  # a lease of three, two left
    clock.now += 60  # the next window: the last one's 3 count 3 x (1 - 0) against 300
    assert process.allow(request_)
    throttle = IngestThrottle()
    key = throttle.get_cache_key(request_, None)
    assert caches["throttles"].get(f"{key}:{int(WINDOW_START // 60) + 1}") == 3  # a new lease, not the old one


def test_a_refusal_says_when_to_come_back(rate, clock, request_, monkeypatch):
    rate("300/min")
    process = Process(monkeypatch)
    clock.now += 30
    assert sum(process.allow(request_) for _ in range(301)) == 300
    throttle = IngestThrottle()
    monkeypatch.setattr(throttling, "_LEASES", process.leases)
    assert not throttle.allow_request(request_, None)
    assert throttle.wait() == 30  # the window is full until it ends


SHARED_STORES = {
    "database": {"BACKEND": "apps.core.cache.DatabaseCache", "LOCATION": "agentscope_cache"},
    "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/14"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("store", SHARED_STORES)
def test_leases_hold_the_rate_in_the_stores_deployed(store, rate, clock, request_, monkeypatch, settings):
    """The database cache (the default) and Redis: a lease is one `incr` by its size, what can't be
    used one `decr`, and four processes together still stop at the rate."""
    if store == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(SHARED_STORES["redis"]["LOCATION"]).ping()
        except redis.ConnectionError:
            pytest.skip("no Redis at 127.0.0.1:6379")
    settings.CACHES = {**settings.CACHES, "throttles": SHARED_STORES[store]}
    rate("250/min")  # leases of 2, and the last one cut
    caches["throttles"].set(f"{IngestThrottle().get_cache_key(request_, None)}:{int(WINDOW_START // 60)}", 1)
    workers = [Process(monkeypatch) for _ in range(4)]
    allowed = sum(workers[n % 4].allow(request_) for n in range(300))
    assert allowed == 249
    assert shared_count(request_) == 250
    caches["throttles"].delete(f"{IngestThrottle().get_cache_key(request_, None)}:{int(WINDOW_START // 60)}")
