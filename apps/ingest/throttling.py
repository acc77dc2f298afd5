from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.projects.models import ApiKey

DEFAULT_RATES = {"ingest": "6000/min", "ingest_control": "3000/min"}


class IngestThrottle(SimpleRateThrottle):
    """Requests per API key, counted in the Django cache (shared by every server once it is Redis).

    The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` (env `INGEST_THROTTLE_RATE`), read
    per request rather than at import time so a changed setting applies at once.

    A sliding window of two counters (this window's and the last one's, weighted by how much of it
    the sliding window still covers), not DRF's list of every request's time: that list, read and
    written whole on every request, held 6,000 timestamps for a busy key (a fifth of a step post's
    CPU, and 50 KB each way per request once the cache is Redis).
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
        current, previous = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        counts = self.cache.get_many([current, previous])
        self.current, self.previous = counts.get(current, 0), counts.get(previous, 0)
        self.elapsed = now - window * self.duration
        if self.previous * (1 - self.elapsed / self.duration) + self.current >= self.num_requests:
            return False
        try:
            self.cache.incr(current)
        except ValueError:  # the window's first request
            self.cache.add(current, 1, timeout=2 * self.duration)
        return True

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
