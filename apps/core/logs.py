"""Logging helpers named by settings.LOGGING (so they import nothing of Django's apps): the request id
of the request being answered, on every log record written while it is."""

import logging
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        record.__dict__.pop("request", None)  # django.request's HttpRequest: not a value a log line can hold
        return True
