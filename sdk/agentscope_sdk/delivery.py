"""What the sender sends, and how: queued events merged, encoded and posted to
`POST /api/ingest/batch` in chunks under the server's limits, each chunk retried with backoff until
it is stored, refused or given up, and every event counted once it is settled.

`Answer` sorts the server's answer event by event, `Backoff` says when to try again, `Delivery`
posts, and `Tally` keeps the counts. The queue and its thread are `transport.Sender`'s.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

from agentscope_sdk._json import to_jsonable
from agentscope_sdk._version import __version__

logger = logging.getLogger("agentscope_sdk")

BATCH_PATH = "/api/ingest/batch"
MAX_BATCH_BYTES = 4 * 1024 * 1024  # under the server's 5 MiB
_TIMESTAMPS = ("started_at", "ended_at")


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


class Tally:
    """What became of the events the agent queued. Each ends as exactly one of sent (stored by the
    server), refused (a 4xx: never retried), lost (given up after retries, at close, or not
    encodable) or dropped (pushed out of a full queue); until then it is queued or in flight. So
    the counts always add up, whenever they are read."""

    def __init__(self) -> None:
        self.sent = self.refused = self.lost = self.dropped = self.in_flight = 0
        self.problem = ""  # the last reason events were not delivered
        self._lock = threading.Lock()  # the sender thread settles, the agent's drops, close() loses

    def take(self, count: int) -> None:
        with self._lock:
            self.in_flight += count

    def store(self, count: int) -> None:
        with self._lock:
            self.sent += count
            self.in_flight -= count

    def refuse(self, count: int, why: str) -> None:
        with self._lock:
            self.refused += count
            self.in_flight -= count
            self.problem = why

    def lose(self, count: int, why: str, *, in_flight: bool = True) -> None:
        """`in_flight=False`: events given up before they were ever taken off the queue."""
        with self._lock:
            self.lost += count
            self.in_flight -= count if in_flight else 0
            self.problem = why

    def drop(self) -> None:
        with self._lock:
            self.dropped += 1
            self.problem = "the queue was full"

    def stats(self, queued: int) -> dict[str, int]:
        with self._lock:
            return {
                "sent": self.sent,
                "refused": self.refused,
                "lost": self.lost,
                "failed": self.refused + self.lost,
                "dropped": self.dropped,
                "queued": queued + self.in_flight,
            }


def summary(stats: dict[str, int], base_url: str, problem: str = "") -> str:
    """One line that says plainly whether the events reached the server, from `Tally.stats()`."""
    sent = stats["sent"]
    undelivered = {
        "refused by the server": stats["refused"],
        "given up": stats["lost"],
        "dropped from the full queue": stats["dropped"],
        "still queued or in flight": stats["queued"],
    }
    missing = sum(undelivered.values())
    if not missing:
        return f"AgentScope: all {sent} events were delivered to {base_url}."
    parts = ", ".join(f"{count} {what}" for what, count in undelivered.items() if count)
    line = f"AgentScope: {missing} of {sent + missing} events were NOT delivered to {base_url} ({parts})."
    return f"{line} Last problem: {problem}." if problem else line


class Item(NamedTuple):
    """One encoded event of a batch; `weight` is how many queued events it stands for (a step's
    update folded into its create makes one item of two)."""

    type: str
    data: bytes
    weight: int


@dataclass
class Answer:
    """The server's answer to one post of a chunk, sorted event by event: stored, refused (a 4xx,
    never retried) or to retry (a network error, 429, 5xx); `reason` says why the retried ones
    failed and `refusal` why the refused ones were refused. Sorting it logs each refusal."""

    stored: list[Item] = field(default_factory=list)
    refused: list[Item] = field(default_factory=list)
    retry: list[Item] = field(default_factory=list)
    reason: str = ""
    refusal: str = ""
    retry_after: float | None = None
    too_large: bool = False  # 413: split the chunk and post the halves

    @classmethod
    def unreachable(cls, chunk: list[Item], exc: Exception) -> Answer:
        return cls(retry=chunk, reason=f"{type(exc).__name__}: {exc}")

    @classmethod
    def of(cls, response: httpx.Response, chunk: list[Item]) -> Answer:
        status = response.status_code
        if status == 413 and len(chunk) > 1:
            return cls(too_large=True)
        if status < 300:
            return cls._per_event(response, chunk)
        if status == 429 or status >= 500:
            return cls(retry=chunk, reason=f"HTTP {status}", retry_after=_retry_after(response))
        refusal = f"HTTP {status} {_text(response)}"
        logger.error("AgentScope refused a batch of %d events: %s", len(chunk), refusal)
        return cls(refused=chunk, refusal=refusal)

    @classmethod
    def _per_event(cls, response: httpx.Response, chunk: list[Item]) -> Answer:
        """A 2xx (the batch endpoint's 207): each event's own status; one it doesn't mention is stored."""
        try:
            results = response.json().get("results") or []
        except Exception:
            results = []
        statuses = {}
        for result in results:
            index, status = result.get("index"), result.get("status") or 0
            if isinstance(index, int) and 0 <= index < len(chunk):
                statuses[index] = (status, result.get("error"))
        answer = cls(reason="the server failed some events")
        for index, item in enumerate(chunk):
            status, error = statuses.get(index, (200, None))
            if status == 429 or status >= 500:
                answer.retry.append(item)
            elif status >= 400:
                answer.refused.append(item)
                answer.refusal = f"HTTP {status} {error}"
                logger.warning("AgentScope refused a %s event: %s %s", item.type, status, error)
            else:
                answer.stored.append(item)
        return answer


class Backoff:
    """When to post a chunk again: 0.5 s doubling up to `backoff_max`, with jitter, or what the
    server's Retry-After says (at most 5 minutes); never past the deadline. None: give up."""

    def __init__(self, config: SenderConfig):
        self.config = config
        self.attempts = 0

    def next(self, retry_after: float | None, deadline: float | None) -> float | None:
        self.attempts += 1
        now = time.monotonic()
        if self.attempts > self.config.max_retries or (deadline is not None and now >= deadline):
            return None
        if retry_after is not None:
            delay = min(retry_after, 300.0)
        else:
            ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (self.attempts - 1))
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        return delay if deadline is None else max(0.0, min(delay, deadline - now))


class Delivery:
    """What is sent: a batch of queued events, merged and encoded, posted to the batch endpoint in
    chunks under the server's limits, each chunk retried until it is stored, refused or given up.
    Every event is counted in the tally once it is settled."""

    def __init__(self, config: SenderConfig, tally: Tally):
        self.config = config
        self.tally = tally
        self.url = config.base_url.rstrip("/") + BATCH_PATH
        self.deadline: float | None = None  # set by close(): no retry goes past it
        self._hurry = threading.Event()  # cuts a backoff short (flush, close)
        self._http: httpx.Client | None = None

    def send(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        for chunk in _chunks(self._encoded(batch)):
            self._post(chunk)

    def hurry(self) -> None:
        self._hurry.set()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def _encoded(self, batch: list[tuple[int, dict[str, Any]]]) -> list[Item]:
        items = []
        for event, weight in _merged(batch):
            try:
                items.append(Item(event["type"], _encode(event), weight))
            except Exception:
                self.tally.lose(weight, f"a {event.get('type')} event could not be encoded")
                logger.exception("AgentScope: could not encode a %s event", event.get("type"))
        return items

    def _post(self, chunk: list[Item]) -> None:
        backoff = Backoff(self.config)
        while chunk:
            answer = self._attempt(chunk)
            if answer.too_large:
                middle = len(chunk) // 2
                self._post(chunk[:middle])
                self._post(chunk[middle:])
                return
            self._settle(answer)
            chunk = answer.retry
            if not chunk:
                return
            delay = backoff.next(answer.retry_after, self.deadline)
            if delay is None:
                self._give_up(chunk, backoff.attempts, answer.reason)
                return
            log = logger.warning if backoff.attempts == 1 else logger.info
            log(
                "AgentScope: sending %d events failed (%s); retry %d in %.1fs",
                len(chunk),
                answer.reason,
                backoff.attempts,
                delay,
            )
            self._wait(delay, interruptible=answer.retry_after is None)

    def _attempt(self, chunk: list[Item]) -> Answer:
        try:
            response = self._client().post(self.url, content=_body(chunk))
        except Exception as exc:
            return Answer.unreachable(chunk, exc)
        return Answer.of(response, chunk)

    def _settle(self, answer: Answer) -> None:
        self.tally.store(_weight(answer.stored))
        if answer.refused:
            self.tally.refuse(_weight(answer.refused), answer.refusal)

    def _give_up(self, chunk: list[Item], attempts: int, reason: str) -> None:
        self.tally.lose(_weight(chunk), f"{reason} (after {attempts} attempts)")
        logger.error("AgentScope: giving up on %d events after %d attempts (%s)", len(chunk), attempts, reason)

    def _wait(self, delay: float, *, interruptible: bool) -> None:
        if interruptible:  # a flush() during the wait retries at once
            self._hurry.clear()
            self._hurry.wait(delay)
        else:  # the server asked for this long
            time.sleep(delay)

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


def _merged(batch: list[tuple[int, dict[str, Any]]]) -> list[tuple[dict[str, Any], int]]:
    """The batch's events with the number of queued events each stands for: a step's update is
    folded into its create when both are here, so a step that ended before it was sent is posted
    once, complete."""
    events: list[list[Any]] = []
    creates: dict[Any, list[Any]] = {}
    for _, event in batch:
        body = event["body"]
        if event["type"] == "step.update" and body.get("id") in creates:
            entry = creates[body["id"]]
            entry[0]["body"].update(body)
            entry[1] += 1
            continue
        events.append([event, 1])
        if event["type"] == "step.create":
            creates[body.get("id")] = events[-1]
    return [(event, weight) for event, weight in events]


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


def _chunks(items: list[Item]):
    chunk: list[Item] = []
    size = 0
    for item in items:
        if chunk and size + len(item.data) > MAX_BATCH_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += len(item.data) + 1
    if chunk:
        yield chunk


def _body(chunk: list[Item]) -> bytes:
    return b'{"events":[' + b",".join(item.data for item in chunk) + b"]}"


def _weight(items: list[Item]) -> int:
    return sum(item.weight for item in items)


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
