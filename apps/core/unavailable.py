"""When the database can't be reached: 503 with Retry-After, in the shape each client expects.

SDKs and OpenTelemetry exporters retry a 503 after Retry-After and never retry a 500, so a database
restart must read as "come back shortly", not as a crash. Every such error ends here: exceptions from
views through `DatabaseUnavailableMiddleware`, those from other middleware through `server_error`
(handler500). The answer is the view's own when it is decorated with `@unavailable_answer(fn)`, else
the first of `ANSWERS` whose path prefix matches: the API error shape under /api/, the designed page
everywhere else.
"""

import logging
import sqlite3
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django_htmx.http import trigger_client_event

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds: long enough for a restart or failover to finish, short enough to catch up

# PostgreSQL's codes for "no database to talk to": connection exceptions (08...), shutting down or
# starting up (57P01-03), no connection slot left (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_UNAVAILABLE_SQLITE = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN}

Answer = Callable[[HttpRequest], HttpResponse]


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database can't be reached right now (down, restarting, connection lost,
    none free in the pool, SQLite locked), rather than that a query was wrong."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return (getattr(cause, "sqlite_errorcode", 0) & 0xFF) in _UNAVAILABLE_SQLITE
    sqlstate = getattr(cause, "sqlstate", None)
    # No SQLSTATE: the server never answered (refused, lost, pool timeout) or the connection is closed.
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def api_answer(request: HttpRequest) -> HttpResponse:
    detail = "The database is unavailable for a moment. Try again shortly."
    return JsonResponse({"detail": detail, "errors": {}}, status=503)


def page_answer(request: HttpRequest) -> HttpResponse:
    # Rendered without the request: context processors would ask the database for the user's projects.
    context = {"path": request.get_full_path(), "posted": request.method == "POST"}
    response = HttpResponse(render_to_string("503.html", context), status=503)
    if getattr(request, "htmx", False):
        message = "AgentScope can't reach its database right now. Try again in a few seconds."
        trigger_client_event(response, "toast", {"level": "error", "message": message})
    return response


ANSWERS: list[tuple[str, Answer]] = [("/api/", api_answer), ("", page_answer)]


def unavailable_answer(answer: Answer):
    """Decorates a view whose clients expect another shape (OTLP's Status for /v1/traces, say)."""

    def decorate(view):
        view.unavailable_answer = answer
        return view

    return decorate


def unavailable_response(request: HttpRequest) -> HttpResponse:
    answer = getattr(_view_of(request), "unavailable_answer", None)
    if answer is None:
        answer = next(answer for prefix, answer in ANSWERS if request.path.startswith(prefix))
    response = answer(request)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _view_of(request: HttpRequest):
    if request.resolver_match is not None:  # None when a middleware failed before the URL was resolved
        return request.resolver_match.func
    try:
        return resolve(request.path_info).func
    except Resolver404:
        return None


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning("Database unavailable: %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that went away under a middleware still gets its 503."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    request_id = getattr(request, "id", None)
    if request.path.startswith(("/api/", "/v1/")):
        detail = f"Server error (request {request_id})." if request_id else "Server error."
        return JsonResponse({"detail": detail, "errors": {}}, status=500)
    context = {"request_id": request_id, "path": request.get_full_path()}
    return HttpResponse(render_to_string("500.html", context), status=500)
