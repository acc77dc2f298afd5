import math

from rest_framework.settings import api_settings

from apps.core.throttling import CountingThrottle
from apps.projects.models import ApiKey

DEFAULT_RATES = {"ingest": "6000/min", "ingest_control": "3000/min"}
LEASE_SHARE = 100  # a worker leases this share of the rate at a time (at least one request)
_PREVIOUS: dict[str, tuple[int, int]] = {}  # cache key -> (window, the count of the window before it)
_LEASES: dict[str, list[int]] = {}  # cache key -> [window, requests this process leased and has not used]


class IngestThrottle(CountingThrottle):
    """Requests per API key, counted in the throttles' cache that every worker shares.

    The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` (env `INGEST_THROTTLE_RATE`), read
    per request rather than at import time so a changed setting applies at once.

    A sliding window of two counters (this window's and the last one's, weighted by how much of it
    the sliding window still covers), not DRF's list of every request's time: that list, read and
    written whole on every request, held 6,000 timestamps for a busy key (a fifth of a step post's
    CPU, and 50 KB each way per request once the cache is Redis). The last window's count no longer
    changes, so each process reads it once.

    Each process leases a slice of the rate (a hundredth, `LEASE_SHARE`, at least one request) from
    the shared count in one call to the cache, and counts it down in memory: most requests cost the
    cache nothing (with the database cache, a call is a transaction of four round trips). The
    window's shared count includes what the workers leased and have not used yet, so the rate is
    never exceeded; a key can be refused early by at most the unused leases of the other workers
    (one hundredth of the rate each). A lease is granted only where the sliding window has room
    for all of it, and that room only grows as the window slides on, so a leased request is always
    within the rate; a lease ends with its window (what is left of it stays counted there).
    """

    scope = "ingest"

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        self.key = self.get_cache_key(request, view)
        if self.rate is None or self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        lease = _LEASES.get(self.key)
        if lease is not None and lease[0] == window and lease[1] > 0:
            lease[1] -= 1
            return True
        self.elapsed, self.previous = now - window * self.duration, self.previous_count(window)
        size = self.lease_size()
        current = f"{self.key}:{window}"
        try:
            count = self.cache.incr(current, size)
        except ValueError:  # the window's first request
            count = size if self.cache.add(current, size, timeout=2 * self.duration) else self.cache.incr(current, size)
        # Requests the sliding window has room for, besides those counted before this lease.
        room = self.num_requests - self.previous * (1 - self.elapsed / self.duration) - (count - size)
        granted = max(0, min(size, math.floor(room)))
        if granted < size:
            self.cache.decr(current, size - granted)  # what can't be used doesn't count
        if not granted:
            self.current = count - size
            return False
        _LEASES[self.key] = [window, granted - 1]  # this request is the first of the lease
        return True

    def lease_size(self) -> int:
        return max(1, self.num_requests // LEASE_SHARE)

    def previous_count(self, window: int) -> int:
        known = _PREVIOUS.get(self.key)
        if known is None or known[0] != window:
            known = _PREVIOUS[self.key] = (window, self.cache.get(f"{self.key}:{window - 1}", 0))
        return known[1]

    def wait(self) -> float:
        """Seconds until the sliding window has room again (at least one: Retry-After counts whole seconds)."""
        if self.current >= self.num_requests:
            return self.duration - self.elapsed
        room = (self.num_requests - self.current) / self.previous  # the share of the last window still allowed
        return max(1.0, self.duration * (1 - room) - self.elapsed)


class IngestControlThrottle(IngestThrottle):
    """The SDK's pause poll (`/run/{id}/control`), per API key, in a scope of its own: a step waiting
    at a breakpoint polls every 0.25 s at most (240 a minute, backing off to one every 2 s), so the
    default rate lets a dozen wait at once at their fastest, and steady writes to the ingest scope
    never make a poll wait."""

    scope = "ingest_control"
