from rest_framework.settings import api_settings

from apps.core.throttling import CountingThrottle
from apps.projects.models import ApiKey

DEFAULT_RATES = {"ingest": "6000/min", "ingest_control": "3000/min"}
_PREVIOUS: dict[str, tuple[int, int]] = {}  # cache key -> (window, the count of the window before it)


class IngestThrottle(CountingThrottle):
    """Requests per API key, counted in the throttles' cache that every worker shares.

    The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` (env `INGEST_THROTTLE_RATE`), read
    per request rather than at import time so a changed setting applies at once.

    A sliding window of two counters (this window's and the last one's, weighted by how much of it
    the sliding window still covers), not DRF's list of every request's time: that list, read and
    written whole on every request, held 6,000 timestamps for a busy key (a fifth of a step post's
    CPU, and 50 KB each way per request once the cache is Redis). An allowed request costs one call
    to the cache: the last window's count no longer changes, so each process reads it once.
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
        self.elapsed, self.previous = now - window * self.duration, self.previous_count(window)
        current = f"{self.key}:{window}"
        try:
            count = self.cache.incr(current)
        except ValueError:  # the window's first request
            count = 1 if self.cache.add(current, 1, timeout=2 * self.duration) else self.cache.incr(current)
        if self.previous * (1 - self.elapsed / self.duration) + count > self.num_requests:
            self.cache.decr(current)  # a refused request doesn't count
            self.current = count - 1
            return False
        return True

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
