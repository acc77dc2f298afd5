"""The background sender: a bounded in-memory queue drained by one thread into `POST /api/ingest/batch`.

The agent's thread only appends a small dict to a deque (about a microsecond); JSON encoding and
HTTP happen on the sender thread, through `delivery.Delivery`. One thread sending batches one after
the other keeps events in the order they were enqueued, so a run's creation always reaches the
server before its steps. Nothing here ever raises into the agent: failures are logged and counted.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import threading
import time
import warnings
import weakref
from collections import deque
from typing import Any

from agentscope_sdk.delivery import Delivery, SenderConfig, Tally, summary

logger = logging.getLogger("agentscope_sdk")

MAX_BATCH_EVENTS = 1000  # the server's limit
_senders: weakref.WeakSet[Sender] = weakref.WeakSet()


class Sender:
    """The queue and the thread that drains it: what the agent's thread touches, kept to a deque
    append. What is sent, and how it is retried, is `Delivery`'s."""

    def __init__(self, config: SenderConfig):
        self.config = config
        self._reset()
        _senders.add(self)

    def _reset(self) -> None:
        self.tally = Tally()
        self._delivery = Delivery(self.config, self.tally)
        self._queue: deque[tuple[int, dict[str, Any]]] = deque()
        self._seq = itertools.count(1)
        self._done = 0  # every event with a lower or equal seq has been sent or given up
        self._inflight = 0  # highest seq the thread has taken off the queue
        self._wake = threading.Event()  # "send now": a full batch, flush or close
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
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
        self.tally.drop()
        dropped = self.tally.dropped
        if dropped == 1:
            message = (
                f"AgentScope: the event queue is full ({self.config.max_queue_size} events); "
                "dropping the oldest events. Is the server reachable?"
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            logger.warning(message)
        elif time.monotonic() - self._last_drop_log > 10:
            self._last_drop_log = time.monotonic()
            logger.warning("AgentScope: %d events dropped so far (queue full)", dropped)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closing:
                return
            thread = threading.Thread(target=self._loop, name="agentscope-sender", daemon=True)
            self._thread = thread
            thread.start()

    def stats(self) -> dict[str, int]:
        return self.tally.stats(len(self._queue))

    def summary(self) -> str:
        return summary(self.stats(), self.config.base_url, self.tally.problem)

    def delivered_all(self) -> bool:
        stats = self.stats()
        return not (stats["failed"] or stats["dropped"] or stats["queued"])

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything enqueued so far is sent (or given up). False on timeout."""
        try:
            target = max(self._queue[-1][0], self._inflight)
        except IndexError:
            target = self._inflight
        if target <= self._done:
            return True
        self._delivery.hurry()
        self._wake.set()
        with self._cond:
            self._cond.wait_for(lambda: self._done >= target or not self._alive(), timeout)
        return self._done >= target

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (for at most `timeout` seconds), then stop the thread. What is
        still queued then is lost, and counted so."""
        if self._closing:
            return True
        self._delivery.deadline = None if timeout is None else time.monotonic() + timeout
        flushed = self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._delivery.hurry()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        self._lose_queued()
        return flushed

    def _lose_queued(self) -> None:
        left = 0
        with contextlib.suppress(IndexError):
            while True:
                self._queue.popleft()
                left += 1
        if left:
            why = "not sent before the client closed"
            cause = self.tally.problem  # why they weren't sent sooner, if anything failed
            self.tally.lose(left, f"{why} ({cause})" if cause else why, in_flight=False)
            logger.warning("AgentScope: %d events not sent before the client closed", left)

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # The sender thread.

    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self.config.flush_interval)
            self._wake.clear()
            while self._queue and not self._closing:
                self._deliver(self._take())
        self._delivery.close()

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
            self.tally.take(len(batch))
        return batch

    def _deliver(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        if not batch:
            return
        try:
            self._delivery.send(batch)
        except Exception:
            logger.exception("AgentScope: unexpected error in the sender")
        finally:
            if self.tally.in_flight:  # only this batch is in flight: what it left unsettled is lost
                self.tally.lose(self.tally.in_flight, "an unexpected error in the sender")
            with self._cond:
                self._done = max(self._done, batch[-1][0])
                self._cond.notify_all()


def _close_all_at_exit() -> None:
    """Flush every sender still open, and say what became of its events when some were not
    delivered: the last word a script that never checked gets."""
    for sender in list(_senders):
        if sender._closing:
            continue
        try:
            sender.close(sender.config.shutdown_timeout)
            if not sender.delivered_all():
                logger.warning(sender.summary())
        except Exception:
            logger.exception("AgentScope: error while flushing at exit")


def _after_fork_in_child() -> None:
    # The parent's thread does not exist in the child, and its queued events are the parent's to send.
    for sender in list(_senders):
        sender._reset()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
