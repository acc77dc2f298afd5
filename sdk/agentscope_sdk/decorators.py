"""Decorators that record a function call as a run or a step, on sync and async functions.

They capture the arguments (bound to their parameter names), the return value, the exception (then
re-raised untouched), the latency and, for LLM calls, token usage and model name from OpenAI- or
Anthropic-shaped responses. A step called outside any run starts a run of its own, named after the
step, so nothing is lost. Any failure of the SDK itself is logged; the function always runs.

At a breakpoint the call waits for a person's decision before the function runs: Continue runs it
(with the edited arguments, when the input was edited), Skip returns the given output without
running it, Abort raises `Aborted`.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from agentscope_sdk._usage import usage_metadata
from agentscope_sdk.control import Aborted, Decision
from agentscope_sdk.tracing import Run, Step, _current_run, check_step_type

if TYPE_CHECKING:
    from agentscope_sdk.client import Client

logger = logging.getLogger("agentscope_sdk")
F = TypeVar("F", bound=Callable[..., Any])
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
State = tuple[Run | None, Step | None]  # the run the call started (if any), and its step (if any)


class _ArgBinder:
    """Binds call arguments to parameter names, cheaper than `Signature.bind`; skips self and cls."""

    def __init__(self, fn: Callable[..., Any]):
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature is not None else []
        self.names = [p.name for p in params if p.kind in _POSITIONAL]
        self.star = next((p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), "args")
        self.skip = 1 if self.names and self.names[0] in ("self", "cls") else 0

    def __call__(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        names = self.names
        bound: dict[str, Any] = {}
        for index, value in enumerate(args):
            if index >= len(names):
                bound[self.star] = list(args[index:])
                break
            if index >= self.skip:
                bound[names[index]] = value
        if kwargs:
            bound.update(kwargs)
        return bound

    def rebind(self, args: tuple, kwargs: dict[str, Any], edited: Any) -> tuple[tuple, dict[str, Any]]:
        """The call's arguments with a step input edited at a breakpoint in place of the originals:
        each key of the edited dict replaces the parameter of that name (a key no parameter takes
        goes to `**kwargs`, if any); a non-dict input replaces the only parameter."""
        if self.signature is None:
            return args, kwargs
        try:
            bound = self.signature.bind_partial(*args, **kwargs)
        except TypeError:  # the call itself is wrong: let the function say so
            return args, kwargs
        params = self.signature.parameters
        visible = [name for name in params if name not in self.names[: self.skip]]
        if not isinstance(edited, dict):
            if len(visible) != 1:
                logger.warning("AgentScope: an edited input that is not an object can't replace several arguments")
                return args, kwargs
            edited = {visible[0]: edited}
        extra = next((p.name for p in params.values() if p.kind is inspect.Parameter.VAR_KEYWORD), None)
        for key, value in edited.items():
            param = params.get(key)
            if param is not None and key in visible and param.kind is not inspect.Parameter.VAR_KEYWORD:
                star = param.kind is inspect.Parameter.VAR_POSITIONAL
                bound.arguments[key] = tuple(value) if star and isinstance(value, list) else value
            elif extra is not None:
                bound.arguments[extra] = {**bound.arguments.get(extra, {}), key: value}
            else:
                logger.warning("AgentScope: the edited input's %r is no parameter of the function; ignored", key)
        return bound.args, bound.kwargs


class _Spec:
    """What a decorated function records: a run (`step_type` None) or a step of that type."""

    __slots__ = ("capture_input", "capture_output", "get_client", "metadata", "name", "step_type")

    def __init__(self, get_client, name, step_type, metadata, capture_input, capture_output):
        self.get_client: Callable[[], Client] = get_client
        self.name: str = name
        self.step_type: str | None = step_type
        self.metadata: dict[str, Any] | None = metadata
        self.capture_input: bool = capture_input
        self.capture_output: bool = capture_output

    def begin(self, binder: _ArgBinder | None, args: tuple, kwargs: dict) -> State | None:
        """Start the run when the call starts one; the step is made, not started (see `open`)."""
        try:
            run = _current_run.get()
            client = run.client if run is not None else self.get_client()
            if not client.enabled:
                return None
            replay = run.replay if run is not None and self.step_type is None else None
            if replay is not None and replay.adopt_root(self.name):
                return None  # replay mode: the agent's own trace is the replay run, not a step of it
            inputs = binder(args, kwargs) if binder is not None else None
            started: Run | None = None
            if run is None:
                started = Run(client, self.name, input=inputs, metadata=self.metadata).__enter__()
                if self.step_type is None:
                    return started, None
                run = started
            return started, Step(run, self.name, self.step_type or "custom", input=inputs, metadata=self.metadata)
        except Exception:
            logger.exception("AgentScope: could not start recording %s", self.name)
            return None

    async def aprepare(self) -> None:
        """Before an async call starts a run: fetch the breakpoints without blocking the loop."""
        try:
            if _current_run.get() is None:
                client = self.get_client()
                if client.enabled:
                    await client.breakpoints.aprepare()
        except Exception:
            logger.exception("AgentScope: could not fetch the breakpoints")

    def open(self, state: State | None) -> Step | None:
        """Start the step; at a breakpoint this blocks until the decision (Abort raises `Aborted`)."""
        step = state[1] if state is not None else None
        if step is None:
            return None
        try:
            return step.start()
        except Aborted as aborted:
            self._end_run(state[0], None, aborted)
            raise
        except Exception:
            logger.exception("AgentScope: could not start recording %s", self.name)
            return None

    async def aopen(self, state: State | None) -> Step | None:
        step = state[1] if state is not None else None
        if step is None:
            return None
        try:
            return await step.astart()
        except Aborted as aborted:
            self._end_run(state[0], None, aborted)
            raise
        except Exception:
            logger.exception("AgentScope: could not start recording %s", self.name)
            return None

    def finish(self, state: State | None, result: Any, exc: BaseException | None) -> Decision | None:
        """Record the result; after an error an `on_error` breakpoint may stop the step: returns the
        decision then (Skip: return its output instead of raising), raises `Aborted` on Abort."""
        if state is None:
            return None
        decision = None
        try:
            if state[1] is not None:
                decision = state[1].end(self._recorded(state[1], result, exc))
        except Aborted as aborted:
            self._end_run(state[0], None, aborted)
            raise
        except Exception:
            logger.exception("AgentScope: could not finish recording %s", self.name)
        self._end_run(state[0], *_outcome(decision, result, exc))
        return decision

    async def afinish(self, state: State | None, result: Any, exc: BaseException | None) -> Decision | None:
        if state is None:
            return None
        decision = None
        try:
            if state[1] is not None:
                decision = await state[1].aend(self._recorded(state[1], result, exc))
        except Aborted as aborted:
            self._end_run(state[0], None, aborted)
            raise
        except Exception:
            logger.exception("AgentScope: could not finish recording %s", self.name)
        self._end_run(state[0], *_outcome(decision, result, exc))
        return decision

    def _recorded(self, step: Step, result: Any, exc: BaseException | None) -> BaseException | None:
        """Put the result on the step; the error to end it with."""
        if exc is None:
            if self.capture_output:
                step.set_output(result)
            if self.step_type == "llm_call":
                step.record_usage(result)
        return exc

    def _end_run(self, run: Run | None, result: Any, exc: BaseException | None) -> None:
        if run is None:
            return
        try:
            if exc is None and self.capture_output:
                run.set_output(result)
            run.__exit__(type(exc) if exc is not None else None, exc, None)
        except Exception:
            logger.exception("AgentScope: could not finish recording %s", self.name)


def _outcome(decision: Decision | None, result: Any, exc: BaseException | None) -> tuple[Any, BaseException | None]:
    """A Skip at an on_error breakpoint turns the error into the given output."""
    if exc is not None and decision is not None and decision.action == "skip":
        return decision.output, None
    return result, exc


def _arguments(binder: _ArgBinder | None, step: Step | None, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The arguments to call with: the edited ones when a person edited the step's input."""
    if step is None or step.decision is None or not step.decision.edited:
        return args, kwargs
    if binder is None:
        logger.warning("AgentScope: %s doesn't capture its input, so an edited input can't reach it", step.name)
        return args, kwargs
    return binder.rebind(args, kwargs, step.decision.input)


def _wrap(fn: F, spec: _Spec) -> F:
    binder = _ArgBinder(fn) if spec.capture_input else None
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            await spec.aprepare()
            state = spec.begin(binder, args, kwargs)
            step = await spec.aopen(state)
            if step is not None and step.skipped:
                if step.replay_error is not None:  # replay mode: the recorded error, not executed
                    await spec.afinish(state, None, step.replay_error)
                    raise step.replay_error
                await spec.afinish(state, step.output, None)
                return step.output
            args, kwargs = _arguments(binder, step, args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                decision = await spec.afinish(state, None, exc)
                if decision is not None and decision.action == "skip":
                    return decision.output
                raise
            await spec.afinish(state, result, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        state = spec.begin(binder, args, kwargs)
        step = spec.open(state)
        if step is not None and step.skipped:
            if step.replay_error is not None:  # replay mode: the recorded error, not executed
                spec.finish(state, None, step.replay_error)
                raise step.replay_error
            spec.finish(state, step.output, None)
            return step.output
        args, kwargs = _arguments(binder, step, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            decision = spec.finish(state, None, exc)
            if decision is not None and decision.action == "skip":
                return decision.output
            raise
        spec.finish(state, result, None)
        return result

    return wrapper  # type: ignore[return-value]


def make_decorator(
    get_client: Callable[[], Client],
    fn: Callable[..., Any] | str | None,
    *,
    step_type: str | None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    capture_input: bool = True,
    capture_output: bool = True,
    model: str | None = None,
    provider: str | None = None,
    usage: Any = None,
) -> Any:
    """`@deco`, `@deco()`, `@deco("name")` and `@deco(name=...)` all work. An LLM call's `model`,
    `provider` and `usage` go to its metadata (the server prices the step from them); the usage the
    call's response reports, when it reports one, replaces a `usage` given here."""
    if isinstance(fn, str):
        name, fn = fn, None
    priced = usage_metadata(model=model, provider=provider, usage=usage)
    if priced:
        metadata = {**(metadata or {}), **priced}
    if step_type is not None:
        check_step_type(step_type)

    def decorate(func: F) -> F:
        spec = _Spec(get_client, name or func.__name__, step_type, metadata, capture_input, capture_output)
        return _wrap(func, spec)

    return decorate(fn) if fn is not None else decorate
