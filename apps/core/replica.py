"""Reads that tolerate a little lag go to a read replica (`DATABASE_REPLICA_URL`); everything else to the
primary.

Only views marked `@replica_reads` read from the replica (the runs list and search, the run page, the
dashboard, the stats API): ingest, the pause protocol, every write and every other page stay on the
primary. Even in a marked view, a read inside a transaction goes to the primary (a rollup fill sums
runs under the locks it holds there), and so does every read of a person who wrote in the last
`READ_YOUR_WRITES_SECONDS`: a write that succeeds sets a short-lived cookie, so the page they open next
shows what they just did, whatever the replica's lag.
"""

import functools
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

PRIMARY = "default"
WROTE_COOKIE = "agentscope_wrote"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_reads_from: ContextVar[str | None] = ContextVar("reads_from", default=None)


class ReplicaRouter:
    """Django's database router: `db_for_read` names the replica only inside a `@replica_reads` view."""

    def db_for_read(self, model, **hints) -> str | None:
        alias = _reads_from.get()
        if alias is None or connections[PRIMARY].in_atomic_block:
            return None  # Django's default: the primary
        return alias

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica is a copy of the primary: its rows are the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by replication


def replica_reads(view):
    """Marks a view (page or API) whose GET reads may come from the replica, when there is one and the
    person has not just written."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        alias = settings.READ_REPLICA
        if alias is None or request.method not in ("GET", "HEAD") or request.COOKIES.get(WROTE_COOKIE):
            return view(request, *args, **kwargs)
        token = _reads_from.set(alias)
        try:
            return view(request, *args, **kwargs)
        finally:
            _reads_from.reset(token)

    return wrapped


class ReadYourWritesMiddleware:
    """After a successful write from a browser or API client, its next reads go to the primary for a
    few seconds (a cookie that expires then: no state on the server)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.READ_REPLICA
            and request.method in _UNSAFE
            and response.status_code < 400
            and not request.path.startswith(("/api/ingest/", "/v1/"))  # agents read nothing back from pages
        ):
            seconds = settings.READ_YOUR_WRITES_SECONDS
            response.set_cookie(WROTE_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)  # fmt: skip
        return response
