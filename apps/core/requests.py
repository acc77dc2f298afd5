"""Each request's id, its one log line and its metrics (the first middleware, so it times everything).

The id is the caller's `X-Request-ID` when it is a plausible one (a proxy or load balancer that sets
it keeps one id end to end), else a new one. It is returned in the `X-Request-ID` header, written in
the request's log line, and shown on the 500 page, so a user's report finds its line in the logs.
"""

import logging
import re
import time
import uuid

from django.db import connections
from django.utils.functional import SimpleLazyObject, empty

from apps.core import metrics
from apps.core.logs import current_request_id

HEADER = "X-Request-ID"
_PLAUSIBLE = re.compile(r"[A-Za-z0-9._:-]{8,128}")
logger = logging.getLogger("agentscope.request")


def request_id_of(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _PLAUSIBLE.fullmatch(given) else uuid.uuid4().hex


class RequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id_of(request)
        token = current_request_id.set(request.id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            self.record(request, response, time.perf_counter() - started)
        finally:
            current_request_id.reset(token)
        return response

    def record(self, request, response, elapsed: float) -> None:
        response[HEADER] = request.id
        route = _route(request)
        metrics.REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        metrics.LATENCY.labels(route, request.method).observe(elapsed)
        if response.status_code == 429:
            metrics.THROTTLED.labels(route).inc()
        if (pool := getattr(connections["default"], "pool", None)) is not None:
            metrics.pool_observe(pool)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request.id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "user_id": _user_id(request),
                "remote_addr": request.META.get("REMOTE_ADDR"),
            },
        )


def _route(request) -> str:
    """The URL pattern that answered (`api/runs/<uuid:run_id>`), never the path: bounded label values."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "(unmatched)"


def _user_id(request) -> str | None:
    """The signed-in user's id, when the request has loaded them: logging must not cost a query (an
    ingest request's user is a lazy object its API key would fetch)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return str(user.pk) if user.is_authenticated else None
