"""Decorators that record a function call as a run or a step, on sync and async functions.

They capture the arguments (bound to their parameter names), the return value, the exception (then
re-raised untouched), the latency and, for LLM calls, token usage and model name from OpenAI- or
Anthropic-shaped responses. A step called outside any run starts a run of its own, named after the
step, so nothing is lost. Any failure of the SDK itself is logged; the function always runs.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from agentscope_sdk.tracing import Run, Step, _current_run, check_step_type

if TYPE_CHECKING:
    from agentscope_sdk.client import Client

logger = logging.getLogger("agentscope_sdk")
F = TypeVar("F", bound=Callable[..., Any])
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class _ArgBinder:
    """Binds call arguments to parameter names, cheaper than `Signature.bind`; skips self and cls."""

    def __init__(self, fn: Callable[..., Any]):
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = []
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

    def begin(self, binder: _ArgBinder | None, args: tuple, kwargs: dict) -> tuple[Run | None, Step | None] | None:
        try:
            run = _current_run.get()
            client = run.client if run is not None else self.get_client()
            if not client.enabled:
                return None
            inputs = binder(args, kwargs) if binder is not None else None
            started: Run | None = None
            if run is None:
                started = Run(client, self.name, input=inputs, metadata=self.metadata).__enter__()
                if self.step_type is None:
                    return started, None
                run = started
            step = Step(run, self.name, self.step_type or "custom", input=inputs, metadata=self.metadata)
            return started, step.start()
        except Exception:
            logger.exception("AgentScope: could not start recording %s", self.name)
            return None

    def finish(self, state: tuple[Run | None, Step | None] | None, result: Any, exc: BaseException | None) -> None:
        if state is None:
            return
        run, step = state
        try:
            if step is not None:
                if exc is None:
                    if self.capture_output:
                        step.set_output(result)
                    if self.step_type == "llm_call":
                        step.record_usage(result)
                step.end(exc)
            if run is not None:
                if exc is None and self.capture_output:
                    run.set_output(result)
                run.__exit__(type(exc) if exc is not None else None, exc, None)
        except Exception:
            logger.exception("AgentScope: could not finish recording %s", self.name)


def _wrap(fn: F, spec: _Spec) -> F:
    binder = _ArgBinder(fn) if spec.capture_input else None
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            state = spec.begin(binder, args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                spec.finish(state, None, exc)
                raise
            spec.finish(state, result, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        state = spec.begin(binder, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            spec.finish(state, None, exc)
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
) -> Any:
    """`@deco`, `@deco()`, `@deco("name")` and `@deco(name=...)` all work."""
    if isinstance(fn, str):
        name, fn = fn, None
    if step_type is not None:
        check_step_type(step_type)

    def decorate(func: F) -> F:
        spec = _Spec(get_client, name or func.__name__, step_type, metadata, capture_input, capture_output)
        return _wrap(func, spec)

    return decorate(fn) if fn is not None else decorate
