"""Throttles: counters every worker shares (the `throttles` cache), per client IP or per anything else.

DRF's `SimpleRateThrottle` keeps a list of request times that it reads and writes back whole: two
workers reading it at once both pass, and one of their writes is lost, so four busy workers let
through up to four times the rate. `CountingThrottle` keeps DRF's interface (scope, rate, cache key,
`wait()`) and counts in fixed windows with the cache's atomic `incr` instead, which loses nothing.
Pages use the same throttle classes through `throttle_wait()`: one store, one rule.
"""

import math

from django.core.cache import caches
from django.shortcuts import render
from django.utils.connection import ConnectionProxy
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

throttle_cache = ConnectionProxy(caches, "throttles")


def client_ip(request) -> str:
    """REMOTE_ADDR, or, behind `TRUSTED_PROXIES` proxies, the address that many hops from the right of
    X-Forwarded-For: a client can put anything on the left of that header, never on the right."""
    return BaseThrottle().get_ident(request)


class CountingThrottle(SimpleRateThrottle):
    """A DRF throttle counting hits per key in windows of the rate's period (all workers share the
    window). Subclasses set `scope` and `get_cache_key()`, as for DRF's own."""

    cache = throttle_cache

    def get_rate(self) -> str | None:
        # Read per request rather than at import time, so a changed setting applies at once; a scope
        # without a rate is not throttled.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def _window_key(self, request, view) -> str | None:
        key = self.get_cache_key(request, view)
        if key is None or self.rate is None:
            return None
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return f"{key}_{window}"

    def allow_request(self, request, view) -> bool:
        """Counts this request; whether it is within the rate."""
        key = self._window_key(request, view)
        return key is None or self._count(key) <= self.num_requests

    def exhausted(self, request, view=None) -> bool:
        """Whether the rate is used up, without counting this request."""
        key = self._window_key(request, view)
        return key is not None and self.cache.get(key, 0) >= self.num_requests

    def wait(self) -> int:
        return max(1, math.ceil(self.window_ends - self.now))

    def _count(self, key: str) -> int:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first hit
            if self.cache.add(key, 1, self.duration):
                return 1
            return self.cache.incr(key)


class ClientIpThrottle(CountingThrottle):
    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


def throttle_wait(request, throttles: list[CountingThrottle]) -> int | None:
    """For a Django view, what DRF does before an API view: counts the request against every throttle,
    and answers the seconds to wait when one of them refuses it (else None)."""
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, None)]
    return max(waits) if waits else None


def throttled_message(what: str, wait: int) -> str:
    """ "Too many sign-in attempts. Try again in 42 seconds." for a page's form."""
    delay = f"{wait} seconds" if wait < 120 else f"{math.ceil(wait / 60)} minutes"
    return f"Too many {what}. Try again in {delay}."


def render_throttled(request, template_name: str, context: dict, wait: int):
    """The page again, as a 429 that says when to come back."""
    response = render(request, template_name, context, status=429)
    response["Retry-After"] = str(wait)
    return response
