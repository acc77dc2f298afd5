"""The background sender: a bounded in-memory queue drained by one thread into `POST /api/ingest/batch`.

The agent's thread only appends a small dict to a deque (about a microsecond); JSON encoding and
HTTP happen on the sender thread. One thread sending batches one after the other keeps events in
the order they were enqueued, so a run's creation always reaches the server before its steps.
Nothing here ever raises into the agent: failures are logged and counted.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import email.utils
import itertools
import json
import logging
import os
import random
import threading
import time
import warnings
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from agentscope_sdk._json import to_jsonable
from agentscope_sdk._version import __version__

logger = logging.getLogger("agentscope_sdk")

BATCH_PATH = "/api/ingest/batch"
MAX_BATCH_EVENTS = 1000  # the server's limit
MAX_BATCH_BYTES = 4 * 1024 * 1024  # under the server's 5 MiB
_TIMESTAMPS = ("started_at", "ended_at")
_senders: weakref.WeakSet[Sender] = weakref.WeakSet()


@dataclass(frozen=True)
class SenderConfig:
    base_url: str
    api_key: str
    batch_size: int = 100
    flush_interval: float = 0.5
    max_queue_size: int = 10_000
    timeout: float = 10.0
    connect_timeout: float = 3.0
    max_retries: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    shutdown_timeout: float = 10.0


class Sender:
    def __init__(self, config: SenderConfig):
        self.config = config
        self._url = config.base_url.rstrip("/") + BATCH_PATH
        self.sent = self.failed = self.dropped = 0
        self._reset()
        _senders.add(self)

    def _reset(self) -> None:
        self._queue: deque[tuple[int, dict[str, Any]]] = deque()
        self._seq = itertools.count(1)
        self._done = 0  # every event with a lower or equal seq has been sent or given up
        self._inflight = 0  # highest seq the thread has taken off the queue
        self._wake = threading.Event()  # "send now": a full batch, flush or close
        self._retry_wake = threading.Event()  # cuts a backoff short on flush
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._closing = False
        self._deadline: float | None = None
        self._last_drop_log = 0.0

    # The agent's side: must stay cheap and never raise.

    def enqueue(self, event_type: str, body: dict[str, Any]) -> None:
        if self._closing:
            return
        queue = self._queue
        if len(queue) >= self.config.max_queue_size:
            self._drop_oldest()
        queue.append((next(self._seq), {"type": event_type, "body": body}))
        if self._thread is None:
            self._start()
        elif len(queue) >= self.config.batch_size:
            self._wake.set()

    def _drop_oldest(self) -> None:
        try:
            self._queue.popleft()
        except IndexError:
            return
        self.dropped += 1
        if self.dropped == 1:
            message = (
                f"AgentScope: the event queue is full ({self.config.max_queue_size} events); "
                "dropping the oldest events. Is the server reachable?"
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            logger.warning(message)
        elif time.monotonic() - self._last_drop_log > 10:
            self._last_drop_log = time.monotonic()
            logger.warning("AgentScope: %d events dropped so far (queue full)", self.dropped)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closing:
                return
            thread = threading.Thread(target=self._loop, name="agentscope-sender", daemon=True)
            self._thread = thread
            thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything enqueued so far is sent (or given up). False on timeout."""
        try:
            target = max(self._queue[-1][0], self._inflight)
        except IndexError:
            target = self._inflight
        if target <= self._done:
            return True
        self._retry_wake.set()
        self._wake.set()
        with self._cond:
            self._cond.wait_for(lambda: self._done >= target or not self._alive(), timeout)
        return self._done >= target

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (for at most `timeout` seconds), then stop the thread."""
        if self._closing:
            return True
        self._deadline = None if timeout is None else time.monotonic() + timeout
        flushed = self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._retry_wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        if self._queue:
            logger.warning("AgentScope: %d events not sent at close", len(self._queue))
        return flushed

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # The sender thread.

    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self.config.flush_interval)
            self._wake.clear()
            while self._queue and not self._closing:
                try:
                    self._deliver(self._take())
                except Exception:
                    logger.exception("AgentScope: unexpected error in the sender")
        if self._http is not None:
            self._http.close()

    def _take(self) -> list[tuple[int, dict[str, Any]]]:
        queue = self._queue
        size = min(self.config.batch_size, MAX_BATCH_EVENTS, len(queue))
        if size == 0:
            return []
        # Before popping, so that flush() never misses an event that is neither queued nor in flight.
        with contextlib.suppress(IndexError):
            self._inflight = max(self._inflight, queue[size - 1][0])
        batch = []
        for _ in range(size):
            try:
                batch.append(queue.popleft())
            except IndexError:
                break
        if batch:
            self._inflight = max(self._inflight, batch[-1][0])
        return batch

    def _deliver(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        if not batch:
            return
        try:
            encoded = []
            for event in _merged(batch):
                try:
                    encoded.append((event["type"], _encode(event)))
                except Exception:
                    self.failed += 1
                    logger.exception("AgentScope: could not encode a %s event", event.get("type"))
            for chunk in _chunks(encoded):
                self._post(chunk)
        finally:
            with self._cond:
                self._done = max(self._done, batch[-1][0])
                self._cond.notify_all()

    def _post(self, chunk: list[tuple[str, bytes]]) -> None:
        attempt = 0
        pending = chunk
        while pending:
            retry_after: float | None = None
            try:
                response = self._client().post(self._url, content=_body(pending))
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 413 and len(pending) > 1:
                    middle = len(pending) // 2
                    self._post(pending[:middle])
                    self._post(pending[middle:])
                    return
                if status < 300:
                    pending = self._results(pending, response)
                    reason = "the server failed some events"
                elif status == 429 or status >= 500:
                    reason, retry_after = f"HTTP {status}", _retry_after(response)
                else:
                    self.failed += len(pending)
                    logger.error(
                        "AgentScope refused a batch of %d events: HTTP %s %s", len(pending), status, _text(response)
                    )
                    return
                if not pending:
                    return
            attempt += 1
            if attempt > self.config.max_retries or self._past_deadline():
                self.failed += len(pending)
                logger.error("AgentScope: giving up on %d events after %d attempts (%s)", len(pending), attempt, reason)
                return
            delay = self._backoff(attempt, retry_after)
            log = logger.warning if attempt == 1 else logger.info
            log("AgentScope: sending %d events failed (%s); retry %d in %.1fs", len(pending), reason, attempt, delay)
            self._sleep(delay, interruptible=retry_after is None)

    def _results(self, pending: list[tuple[str, bytes]], response: httpx.Response) -> list[tuple[str, bytes]]:
        """Log the events the server refused (4xx, not retried); return those it failed (5xx, retried)."""
        try:
            results = response.json().get("results") or []
        except Exception:
            results = []
        retry = []
        refused = 0
        for result in results:
            index, status = result.get("index"), result.get("status") or 0
            if not isinstance(index, int) or not 0 <= index < len(pending):
                continue
            if status == 429 or status >= 500:
                retry.append(pending[index])
            elif status >= 400:
                refused += 1
                logger.warning("AgentScope refused a %s event: %s %s", pending[index][0], status, result.get("error"))
        self.failed += refused
        self.sent += len(pending) - refused - len(retry)
        return retry

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            delay = min(retry_after, 300.0)
        else:
            ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if self._deadline is not None:
            delay = max(0.0, min(delay, self._deadline - time.monotonic()))
        return delay

    def _sleep(self, delay: float, *, interruptible: bool) -> None:
        if interruptible:  # a flush() during the wait retries at once
            self._retry_wake.clear()
            self._retry_wake.wait(delay)
        else:
            time.sleep(delay)

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = http_client(self.config)
        return self._http


def http_client(config: SenderConfig) -> httpx.Client:
    """An HTTP client that speaks to the server with the key, as the SDK's requests do."""
    timeout = httpx.Timeout(config.timeout, connect=config.connect_timeout)
    headers = {
        "X-Agentscope-Key": config.api_key,
        "Content-Type": "application/json",
        "User-Agent": f"agentscope-sdk/{__version__}",
    }
    return httpx.Client(timeout=timeout, headers=headers)


def json_body(body: dict[str, Any]) -> bytes:
    """One event's body as the single endpoints take it (times as ISO 8601), leaving `body` as it was."""
    body = dict(body)
    _iso_times(body)
    return _dumps(body)


def _merged(batch: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The batch's events, with each step's update folded into its create when both are here:
    a step that ended before it was sent is posted once, complete."""
    events: list[dict[str, Any]] = []
    creates: dict[Any, dict[str, Any]] = {}
    for _, event in batch:
        body = event["body"]
        if event["type"] == "step.create":
            creates[body.get("id")] = body
        elif event["type"] == "step.update" and body.get("id") in creates:
            creates[body["id"]].update(body)
            continue
        events.append(event)
    return events


def _encode(event: dict[str, Any]) -> bytes:
    _iso_times(event["body"])
    return _dumps(event)


def _iso_times(body: dict[str, Any]) -> None:
    for key in _TIMESTAMPS:
        value = body.get(key)
        if type(value) is float:
            body[key] = dt.datetime.fromtimestamp(value, dt.timezone.utc).isoformat()


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError):  # a value the agent passed straight through, e.g. NaN
        return json.dumps(to_jsonable(value), separators=(",", ":")).encode()


def _chunks(encoded: list[tuple[str, bytes]]):
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for item in encoded:
        if chunk and size + len(item[1]) > MAX_BATCH_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += len(item[1]) + 1
    if chunk:
        yield chunk


def _body(chunk: list[tuple[str, bytes]]) -> bytes:
    return b'{"events":[' + b",".join(data for _, data in chunk) + b"]}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _text(response: httpx.Response) -> str:
    try:
        return response.text[:500]
    except Exception:
        return ""


def _close_all_at_exit() -> None:
    for sender in list(_senders):
        try:
            sender.close(sender.config.shutdown_timeout)
        except Exception:
            logger.exception("AgentScope: error while flushing at exit")


def _after_fork_in_child() -> None:
    # The parent's thread does not exist in the child, and its queued events are the parent's to send.
    for sender in list(_senders):
        sender._reset()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
