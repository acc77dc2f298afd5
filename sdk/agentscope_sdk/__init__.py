"""AgentScope SDK: report agent runs and steps to an AgentScope server.

    import agentscope_sdk as agentscope

    @agentscope.tool_call
    def search(query: str) -> list[str]: ...

    @agentscope.trace
    def agent(question: str) -> str: ...

The module-level functions use a default client configured from the environment
(`AGENTSCOPE_API_KEY`, `AGENTSCOPE_BASE_URL`) on first use, or by `configure(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentscope_sdk import breakpoints, client, decorators, replay, tracing
from agentscope_sdk._version import __version__
from agentscope_sdk.client import Client, configure, get_client
from agentscope_sdk.control import Aborted
from agentscope_sdk.decorators import make_decorator
from agentscope_sdk.tracing import Run, Step, current_run, current_step

__all__ = [
    "Aborted",
    "Client",
    "Run",
    "Step",
    "__version__",
    "configure",
    "current_run",
    "current_step",
    "flush",
    "get_client",
    "llm_call",
    "retrieval",
    "run",
    "step",
    "tool_call",
    "trace",
]

# The client is the lowest layer that records; the layers above lend it what they make.
client.plug_in(
    run=tracing.Run,
    decorator=decorators.make_decorator,
    replay=replay.replay_run,
    breakpoints=breakpoints.Breakpoints,
)


def run(agent_name: str, **options: Any) -> Run:
    return get_client().run(agent_name, **options)


def flush(timeout: float | None = None) -> bool:
    return get_client().flush(timeout)


def trace(fn: Callable | str | None = None, /, **options: Any) -> Any:
    return make_decorator(get_client, fn, step_type=None, **options)


def step(fn: Callable | str | None = None, /, *, type: str = "custom", **options: Any) -> Any:
    return make_decorator(get_client, fn, step_type=type, **options)


def llm_call(fn: Callable | str | None = None, /, **options: Any) -> Any:
    return make_decorator(get_client, fn, step_type="llm_call", **options)


def tool_call(fn: Callable | str | None = None, /, **options: Any) -> Any:
    return make_decorator(get_client, fn, step_type="tool_call", **options)


def retrieval(fn: Callable | str | None = None, /, **options: Any) -> Any:
    return make_decorator(get_client, fn, step_type="retrieval", **options)
