"""The client: configuration, the sender it feeds, and the default client of the module-level API.

The client sits low: tracing, decorators, breakpoints and replay all build on it, so it imports
none of them. What it offers from those layers (`client.run`, `@client.trace`, `client.replay`, the
breakpoints every client has) they lend it through `plug_in`, which `agentscope_sdk/__init__.py`
calls when the package is imported: always before any client exists, since importing any module of
the package runs the package's `__init__` first.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from agentscope_sdk._json import DEFAULT_MAX_CHARS, to_jsonable
from agentscope_sdk.control import Pauses
from agentscope_sdk.delivery import BATCH_PATH, SenderConfig, http_client
from agentscope_sdk.transport import Sender

logger = logging.getLogger("agentscope_sdk")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Client:
    """Reports runs and steps to an AgentScope server.

    `api_key` and `base_url` default to the environment variables `AGENTSCOPE_API_KEY` and
    `AGENTSCOPE_BASE_URL`. Without a key the client is disabled: decorated functions run as usual and
    nothing is recorded (one warning says so). Events are queued in memory (at most `max_queue_size`;
    past that the oldest are dropped with a warning) and sent by a background thread in batches of
    `batch_size`, at least every `flush_interval` seconds; failed sends are retried with exponential
    backoff up to `max_retries` times. At interpreter exit the queue is flushed for at most
    `shutdown_timeout` seconds.

    A step that one of the project's enabled breakpoints could stop is posted synchronously and its
    call waits for a person's decision, for at most `breakpoint_timeout` seconds (env
    `AGENTSCOPE_BREAKPOINT_TIMEOUT`, default 600). `breakpoints=False`, or the environment variable
    `AGENTSCOPE_BREAKPOINTS=off`, turns that off: nothing ever pauses.
    """

    # Lent by the layers above (see `plug_in`).
    _run: ClassVar[Callable[..., Any]]
    _decorator: ClassVar[Callable[..., Any]]
    _replay: ClassVar[Callable[..., Any]]
    _breakpoints: ClassVar[Callable[..., Pauses]]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        batch_size: int = 100,
        flush_interval: float = 0.5,
        max_queue_size: int = 10_000,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_retries: int = 10,
        shutdown_timeout: float = 10.0,
        max_field_size: int = DEFAULT_MAX_CHARS,
        enabled: bool = True,
        breakpoints: bool = True,
        breakpoint_timeout: float | None = None,
    ):
        self.api_key = api_key or os.environ.get("AGENTSCOPE_API_KEY") or ""
        self.base_url = (base_url or os.environ.get("AGENTSCOPE_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.max_field_size = max_field_size
        self.enabled = enabled and bool(self.api_key)
        if enabled and not self.api_key:
            logger.warning("AgentScope: no API key (set AGENTSCOPE_API_KEY); nothing will be recorded")
        config = SenderConfig(
            base_url=self.base_url,
            api_key=self.api_key,
            batch_size=max(1, batch_size),
            flush_interval=flush_interval,
            max_queue_size=max(1, max_queue_size),
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            shutdown_timeout=shutdown_timeout,
        )
        self._sender = Sender(config)
        self.breakpoints: Pauses = self._breakpoints(
            self._sender, enabled=self.enabled and breakpoints, max_wait=breakpoint_timeout
        )

    # Recording.

    def run(
        self,
        agent_name: str,
        *,
        input: Any = None,
        metadata: dict[str, Any] | None = None,
        external_id: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> Any:
        """A run (`agentscope_sdk.Run`), to use as `with client.run("agent") as run:` or `async with`.
        Runs with one `session_id` read as one conversation on the server; `user_id` is your end user's id."""
        return self._run(
            self,
            agent_name,
            input=input,
            metadata=metadata,
            external_id=external_id,
            session_id=session_id,
            user_id=user_id,
        )

    def trace(self, fn: Callable | str | None = None, /, **options: Any) -> Any:
        """Decorator: each call of the function is a run (a step when called inside a run).
        Options: name, metadata, capture_input, capture_output."""
        return self._decorator(self._self, fn, step_type=None, **options)

    def step(self, fn: Callable | str | None = None, /, *, type: str = "custom", **options: Any) -> Any:
        """Decorator: each call of the function is a step of the current run."""
        return self._decorator(self._self, fn, step_type=type, **options)

    def llm_call(self, fn: Callable | str | None = None, /, **options: Any) -> Any:
        return self._decorator(self._self, fn, step_type="llm_call", **options)

    def tool_call(self, fn: Callable | str | None = None, /, **options: Any) -> Any:
        return self._decorator(self._self, fn, step_type="tool_call", **options)

    def retrieval(self, fn: Callable | str | None = None, /, **options: Any) -> Any:
        return self._decorator(self._self, fn, step_type="retrieval", **options)

    def mcp_tool(
        self,
        tool_name: str,
        *,
        description: str | None = None,
        input_schema: dict | None = None,
        server_name: str | None = None,
    ) -> None:
        """Register (or update) an MCP tool of the project."""
        body: dict[str, Any] = {"tool_name": tool_name}
        for key, value in (("description", description), ("input_schema", input_schema), ("server_name", server_name)):
            if value is not None:
                body[key] = self.jsonable(value)
        self.emit("mcp.tool", body)

    def mcp_log(
        self,
        tool_name: str,
        *,
        log_type: str = "response",
        request: Any = None,
        response: Any = None,
        error: Any = None,
        latency_ms: int | None = None,
        run_id: str | None = None,
    ) -> None:
        """Record one MCP tool call (log_type "call", "response" or "error")."""
        body: dict[str, Any] = {"tool_name": tool_name, "log_type": log_type}
        for key, value in (("request", request), ("response", response), ("error", error)):
            if value is not None:
                body[key] = self.jsonable(value)
        if latency_ms is not None:
            body["latency_ms"] = int(latency_ms)
        if run_id is not None:
            body["run_id"] = run_id
        self.emit("mcp.log", body)

    # Replay.

    def replay(self, run_id: str, *, agent: Callable[..., Any], entrypoint: str | None = None, timeout: float = 30.0):
        """Run `agent` as the replay run `run_id` (see agentscope_sdk.replay); returns a ReplayResult.
        Raises `ReplayError` when the replay can't start."""
        return self._replay(self, run_id, agent, entrypoint=entrypoint, timeout=timeout)

    # Delivery.

    def emit(self, event_type: str, body: dict[str, Any]) -> None:
        """Queue one ingest event; never raises, never blocks."""
        if not self.enabled:
            return
        try:
            self._sender.enqueue(event_type, body)
        except Exception:
            logger.exception("AgentScope: could not queue a %s event", event_type)

    def jsonable(self, value: Any) -> Any:
        return to_jsonable(value, max_chars=self.max_field_size)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every event queued so far is sent or given up; False if `timeout` ran out."""
        try:
            return self._sender.flush(timeout)
        except Exception:
            logger.exception("AgentScope: flush failed")
            return False

    def close(self, timeout: float | None = None) -> bool:
        """Flush (for at most `timeout` seconds) and stop the sender; later events are ignored."""
        self.enabled = False
        self.breakpoints.close()
        try:
            return self._sender.close(self._sender.config.shutdown_timeout if timeout is None else timeout)
        except Exception:
            logger.exception("AgentScope: close failed")
            return False

    def stats(self) -> dict[str, int]:
        """What became of the events queued so far, each counted once: `sent` (stored by the server),
        `refused` (by the server, not retried), `lost` (given up), `dropped` (from a full queue),
        `queued` (waiting or being sent); `failed` is refused + lost."""
        return self._sender.stats()

    def summary(self) -> str:
        """One line that says whether every event reached the server, and if not, how many didn't
        and why. Best read after `close()`, when nothing is on its way any more."""
        return self._sender.summary()

    def ping(self, timeout: float = 5.0) -> Ping:
        """Whether the server answers and accepts the key; see `ping`."""
        return ping(self.base_url, self.api_key, timeout=timeout)

    def _self(self) -> Client:
        return self

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<agentscope_sdk.Client {self.base_url} enabled={self.enabled}>"


@dataclass(frozen=True)
class Ping:
    """What `ping` found. `problem` is None when the server answers and accepts the key, else
    "unreachable" (nothing answers), "unhealthy" (something answers, not a healthy AgentScope),
    "no_key" or "key_refused"; `detail` says what was seen."""

    problem: str | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def ping(base_url: str, api_key: str | None, *, timeout: float = 5.0) -> Ping:
    """Check the server (`GET /health`) and the key (an empty batch, which stores nothing) within
    seconds, before anything is sent; never raises."""
    base_url = base_url.rstrip("/")
    config = SenderConfig(base_url, api_key or "", timeout=timeout, connect_timeout=min(timeout, 3.0))
    try:
        with http_client(config) as http:
            health = http.get(f"{base_url}/health")
            if health.status_code != 200:
                return Ping("unhealthy", f"GET /health answered HTTP {health.status_code}: {_gist(health)}")
            if not api_key:
                return Ping("no_key", "no API key (set AGENTSCOPE_API_KEY)")
            answer = http.post(f"{base_url}{BATCH_PATH}", content=b'{"events":[]}')
    except httpx.HTTPError as exc:
        return Ping("unreachable", f"{type(exc).__name__}: {exc}")
    if answer.status_code < 300:
        return Ping(None, "the key is accepted")
    problem = "key_refused" if answer.status_code in (401, 403) else "unhealthy"
    return Ping(problem, f"HTTP {answer.status_code}: {_gist(answer)}")


def _gist(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:200]


def plug_in(
    *,
    run: Callable[..., Any],
    decorator: Callable[..., Any],
    replay: Callable[..., Any],
    breakpoints: Callable[..., Pauses],
) -> None:
    """Lend every client what the layers above make: its runs (`tracing.Run`), its decorators
    (`decorators.make_decorator`), its replays (`replay.replay_run`) and its breakpoints
    (`breakpoints.Breakpoints`, built with the client's sender)."""
    Client._run = staticmethod(run)
    Client._decorator = staticmethod(decorator)
    Client._replay = staticmethod(replay)
    Client._breakpoints = staticmethod(breakpoints)


# The default client, which the module-level API (`agentscope_sdk.run`, `@agentscope_sdk.trace`, ...)
# records through.

_default: Client | None = None
_default_lock = threading.Lock()


def configure(api_key: str | None = None, base_url: str | None = None, **options: Any) -> Client:
    """Replace the default client (closing the previous one) and return it."""
    global _default
    with _default_lock:
        previous, _default = _default, Client(api_key, base_url, **options)
    if previous is not None:
        previous.close()
    return _default


def get_client() -> Client:
    """The default client, created from the environment on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Client()
    return _default
