"""Runs and steps: context managers that turn an agent's work into ingest events.

The run and the step being executed live in context variables, so nesting follows the call stack
in threads and in asyncio tasks alike: a step started inside another step is its child.
"""

from __future__ import annotations

import contextvars
import logging
import time
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentscope_sdk._ids import new_id
from agentscope_sdk._usage import usage_metadata, usage_of
from agentscope_sdk.control import Aborted, Decision

if TYPE_CHECKING:
    from agentscope_sdk.client import Client

logger = logging.getLogger("agentscope_sdk")

STEP_TYPES = frozenset({"llm_call", "tool_call", "retrieval", "custom", "error"})
MAX_TRACEBACK = 16 * 1024
_UNSET: Any = object()

_current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar("agentscope_run", default=None)
_current_step: contextvars.ContextVar[Step | None] = contextvars.ContextVar("agentscope_step", default=None)


def current_run() -> Run | None:
    """The run the caller is inside of, if any."""
    return _current_run.get()


def current_step() -> Step | None:
    """The step the caller is inside of, if any."""
    return _current_step.get()


def error_of(exc: BaseException) -> dict[str, str]:
    """How an exception is recorded: its type, message and traceback."""
    try:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:
        trace = ""
    return {"type": type(exc).__name__, "message": str(exc), "traceback": trace[-MAX_TRACEBACK:]}


def check_step_type(step_type: str) -> str:
    if step_type not in STEP_TYPES:
        raise ValueError(f"step type must be one of {sorted(STEP_TYPES)}, not {step_type!r}")
    return step_type


class Run:
    """A run of an agent. Use as `with client.run(...) as run:` (or `async with`), or call
    `start()` and `end()` yourself."""

    def __init__(
        self,
        client: Client,
        agent_name: str,
        *,
        input: Any = None,
        metadata: dict[str, Any] | None = None,
        external_id: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ):
        self.client = client
        self.session_id, self.user_id = session_id, user_id
        self.id = new_id()
        self.agent_name = agent_name
        self.input = input
        self.metadata = metadata
        self.external_id = external_id
        self.output: Any = None
        self.started = self.ended = False
        self.replay: Any = None  # the plan of a replay run (agentscope_sdk.replay.Replay), in replay mode
        self._token: contextvars.Token | None = None

    def start(self) -> Run:
        if self.started:
            return self
        self.started = True
        self.client.breakpoints.prepare()
        body: dict[str, Any] = {"id": self.id, "agent_name": self.agent_name, "started_at": time.time()}
        if self.input is not None:
            body["input"] = self.client.jsonable(self.input)
        if self.metadata:
            body["metadata"] = self.client.jsonable(self.metadata)
        if self.external_id is not None:
            body["external_id"] = str(self.external_id)
        for name in ("session_id", "user_id"):
            if getattr(self, name) is not None:
                body[name] = str(getattr(self, name))
        self.client.emit("run.create", body)
        return self

    def set_output(self, output: Any) -> None:
        """The run's output, sent when the run ends."""
        self.output = output

    def update(
        self, *, metadata: dict[str, Any] | None = None, output: Any = _UNSET, status: str | None = None
    ) -> None:
        """Change the run while it goes on (metadata, an intermediate output, a status)."""
        body: dict[str, Any] = {"run_id": self.id}
        if metadata is not None:
            self.metadata = {**(self.metadata or {}), **metadata}
            body["metadata"] = self.client.jsonable(self.metadata)
        if output is not _UNSET:
            self.output = output
            body["output"] = self.client.jsonable(output)
        if status is not None:
            body["status"] = status
        self.client.emit("run.update", body)

    def end(self, *, output: Any = _UNSET, error: BaseException | dict | str | None = None) -> None:
        """End the run: failed when `error` is given, completed otherwise."""
        if self.ended:
            return
        self.start()
        self.ended = True
        if output is not _UNSET:
            self.output = output
        body: dict[str, Any] = {"run_id": self.id, "ended_at": time.time()}
        if self.output is not None:
            body["output"] = self.client.jsonable(self.output)
        if error is None:
            body["status"] = "completed"
        else:
            body["status"] = "failed"
            body["error"] = _error_body(self.client, error)
        self.client.emit("run.end", body)

    def step(
        self, name: str, type: str = "custom", *, input: Any = None, metadata: dict[str, Any] | None = None
    ) -> Step:
        """A step as a context manager: `with run.step("search", "tool_call", input=q) as step:`."""
        return Step(self, name, check_step_type(type), input=input, metadata=metadata)

    def log_step(
        self,
        name: str,
        type: str = "custom",
        *,
        input: Any = None,
        output: Any = None,
        error: BaseException | dict | str | None = None,
        metadata: dict[str, Any] | None = None,
        tokens_used: int | None = None,
        latency_ms: int | None = None,
        started_at: float | datetime | None = None,
        ended_at: float | datetime | None = None,
        parent_id: str | None = _UNSET,
        step_id: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        usage: Any = None,
        cost_usd: float | str | None = None,
    ) -> str:
        """Record a step that is already over, in one event; returns its id (`step_id`, or a new
        one). Times are epoch seconds (`time.time()`) or aware datetimes. An LLM call's `model`,
        `provider` and `usage` (a dict, or an OpenAI, Anthropic or Google usage object) price it on
        the server; a `cost_usd` you already know is kept as given."""
        client = self.client
        if self.replay is not None:  # in a replay, before the fork: the recorded step stands, nothing is sent
            logged = Step(self, name, check_step_type(type), input=input)
            if self.replay.intercept(logged):
                return logged.id
        step_id = step_id or new_id()
        started_at = _epoch(started_at)
        ended = time.time() if ended_at is None else _epoch(ended_at)
        body: dict[str, Any] = {"run_id": self.id, "id": step_id, "step_type": check_step_type(type), "name": name}
        if parent_id is _UNSET:
            parent = _current_step.get()
            parent_id = parent.id if parent is not None and parent.run is self else None
        if parent_id is not None:
            body["parent_id"] = parent_id
        body["input"] = client.jsonable(input)
        body["output"] = client.jsonable(output)
        metadata = {**(metadata or {}), **usage_metadata(model=model, provider=provider, usage=usage)}
        if cost_usd is not None:
            metadata["cost_usd"] = str(cost_usd)
        if metadata:
            body["metadata"] = client.jsonable(metadata)
        if error is not None:
            body["error"] = _error_body(client, error)
        if tokens_used is not None:
            body["tokens_used"] = int(tokens_used)
        if latency_ms is None and started_at is not None:
            latency_ms = round((ended - started_at) * 1000)
        if latency_ms is not None:
            body["latency_ms"] = int(latency_ms)
        body["started_at"] = started_at if started_at is not None else ended
        body["ended_at"] = ended
        client.emit("step.create", body)
        return step_id

    def __enter__(self) -> Run:
        self.start()
        self._token = _current_run.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._token is not None:
            _current_run.reset(self._token)
            self._token = None
        self.end(error=exc)

    async def __aenter__(self) -> Run:
        if not self.started:
            await self.client.breakpoints.aprepare()
        return self.__enter__()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"<Run {self.agent_name} {self.id}>"


class Step:
    """A step of a run, posted as running when it starts and completed (or failed) when it ends.

    A step that an enabled breakpoint could stop is posted synchronously instead, and `start()`
    blocks until a person decides: `decision` says what they chose; with an edited input `input`
    holds it; on Skip `skipped` is true and `output` holds what to return; Abort raises `Aborted`."""

    def __init__(
        self, run: Run, name: str, step_type: str, *, input: Any = None, metadata: dict[str, Any] | None = None
    ):
        self.run = run
        self.id = new_id()
        self.name = name
        self.step_type = step_type
        self.input = input
        self.metadata: dict[str, Any] = dict(metadata) if metadata else {}
        self.output: Any = None
        self.tokens_used: int | None = None
        self.parent_id: str | None = None
        self.decision: Decision | None = None
        self.skipped = False
        self.replayed = False  # replay mode: answered from the recording, never executed nor posted
        self.replay_error: BaseException | None = None  # ... by raising the recorded error
        self.reentered = False  # replay mode: it runs live as the copy already stored (the fork is inside)
        self._started = 0.0
        self._token: contextvars.Token | None = None
        self.ended = False

    def set_output(self, output: Any) -> None:
        self.output = output

    def set_tokens(self, tokens_used: int) -> None:
        self.tokens_used = int(tokens_used)

    def set_metadata(self, **metadata: Any) -> None:
        self.metadata.update(metadata)

    def set_usage(
        self, usage: Any = None, *, model: str | None = None, provider: str | None = None, cost_usd: Any = None
    ) -> None:
        """What prices this LLM call on the server: `usage` a dict of our counts (`input_tokens`,
        `output_tokens`, `cache_read_tokens`, `cache_write_tokens`, `reasoning_tokens`) or an
        OpenAI, Anthropic or Google usage object; a `cost_usd` you already know is kept as given."""
        self.metadata.update(usage_metadata(model=model, provider=provider, usage=usage))
        counts = self.metadata.get("usage") if usage is not None else None
        if counts and self.tokens_used is None:
            self.tokens_used = counts.get("input_tokens", 0) + counts.get("output_tokens", 0)
        if cost_usd is not None:
            self.metadata["cost_usd"] = str(cost_usd)

    def record_usage(self, response: Any) -> None:
        """Tokens and model from an OpenAI, Anthropic or Google response (object or dict)."""
        tokens, metadata = usage_of(response)
        if tokens is not None:
            self.tokens_used = tokens
        self.metadata.update(metadata)

    def start(self) -> Step:
        if self.run.replay is not None and self.run.replay.intercept(self):
            return self
        body = self._open()
        if body is not None:
            self._resume(self.run.client.breakpoints.before(self.run.id, body))
        return self

    async def astart(self) -> Step:
        """`start()` for async code: a pause waits with `asyncio.sleep`, never blocking the loop."""
        if self.run.replay is not None and self.run.replay.intercept(self):
            return self
        body = self._open()
        if body is not None:
            self._resume(await self.run.client.breakpoints.abefore(self.run.id, body))
        return self

    def _open(self) -> dict[str, Any] | None:
        """Queue the step as running; or, when a breakpoint could stop it, return its body to post now."""
        parent = _current_step.get()
        if parent is not None and parent.run is self.run and self.parent_id is None:
            self.parent_id = parent.id
        self._started = time.perf_counter()
        client = self.run.client
        body: dict[str, Any] = {
            "run_id": self.run.id,
            "id": self.id,
            "step_type": self.step_type,
            "name": self.name,
            "input": client.jsonable(self.input),
            "started_at": time.time(),
        }
        if self.metadata:
            body["metadata"] = client.jsonable(self.metadata)
        if self.parent_id is not None:
            body["parent_id"] = self.parent_id
        self._token = _current_step.set(self)
        if self.reentered:  # its copy is stored already: ending it updates the copy
            return None
        if client.breakpoints.may_stop(self.run.agent_name, self.step_type, self.name):
            return body
        client.emit("step.create", body)
        return None

    def _resume(self, decision: Decision) -> None:
        if decision.hit_id is not None:  # it did stop
            self.decision = decision
        if decision.action == "abort":
            aborted = Aborted(decision.message or "Aborted at a breakpoint", hit_id=decision.hit_id)
            self.end(aborted)
            raise aborted
        self._started = time.perf_counter()  # the latency is the step's own, not the time it waited
        if decision.edited:
            self.input = decision.input
        if decision.action == "skip":
            self.skipped, self.output = True, decision.output

    def end(self, error: BaseException | dict | str | None = None) -> Decision | None:
        """Complete the step. After an error an `on_error` breakpoint may stop it: then this returns
        the decision (Skip: `output` is what to return instead of the error) or raises `Aborted`."""
        body = self._close(error)
        if body is None:
            return None
        breakpoints = self.run.client.breakpoints
        if _may_pause_after(error) and breakpoints.may_stop_after_error(self.run.agent_name):
            return self._after_error(breakpoints.after(self.run.id, self.id, body), error)
        self.run.client.emit("step.update", body)
        return None

    async def aend(self, error: BaseException | dict | str | None = None) -> Decision | None:
        body = self._close(error)
        if body is None:
            return None
        breakpoints = self.run.client.breakpoints
        if _may_pause_after(error) and breakpoints.may_stop_after_error(self.run.agent_name):
            return self._after_error(await breakpoints.aafter(self.run.id, self.id, body), error)
        self.run.client.emit("step.update", body)
        return None

    def _close(self, error: BaseException | dict | str | None) -> dict[str, Any] | None:
        if self.ended or self.replayed:
            self.ended = True
            return None
        self.ended = True
        if self._token is not None:
            try:
                _current_step.reset(self._token)
            except ValueError:  # ended in another context than it started in
                _current_step.set(None)
            self._token = None
        client = self.run.client
        body: dict[str, Any] = {
            "run_id": self.run.id,
            "id": self.id,
            "output": client.jsonable(self.output),
            "ended_at": time.time(),
            "latency_ms": round((time.perf_counter() - self._started) * 1000),
        }
        if error is not None:
            body["error"] = _error_body(client, error)
        if self.tokens_used is not None:
            body["tokens_used"] = self.tokens_used
        if self.metadata:
            body["metadata"] = client.jsonable(self.metadata)
        return body

    def _after_error(self, decision: Decision, error: Any) -> Decision:
        if decision.hit_id is not None:
            self.decision = decision
        if decision.action == "abort":
            cause = error if isinstance(error, BaseException) else None
            raise Aborted(decision.message or "Aborted at a breakpoint", hit_id=decision.hit_id) from cause
        if decision.action == "skip":
            self.skipped, self.output = True, decision.output
        return decision

    def __enter__(self) -> Step:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        # Skip at an on_error breakpoint: the block's exception is dropped and `output` is the result.
        decision = self.end(error=exc)
        return exc is not None and decision is not None and decision.action == "skip"

    async def __aenter__(self) -> Step:
        return await self.astart()

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        decision = await self.aend(error=exc)
        return exc is not None and decision is not None and decision.action == "skip"

    def __repr__(self) -> str:
        return f"<Step {self.step_type} {self.name} {self.id}>"


def _may_pause_after(error: Any) -> bool:
    """An error an `on_error` breakpoint may stop at; not an interruption (Ctrl-C, cancellation, Aborted)."""
    return error is not None and (isinstance(error, Exception) or not isinstance(error, BaseException))


def _epoch(value: float | datetime | None) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _error_body(client: Client, error: BaseException | dict | str) -> Any:
    if isinstance(error, Aborted):  # the run's error as the server recorded it, not a traceback
        return error.error
    if isinstance(error, BaseException):
        return client.jsonable(error_of(error))
    if isinstance(error, str):
        return {"message": error}
    return client.jsonable(error)
