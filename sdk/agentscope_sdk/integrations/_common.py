"""What the integrations share: the run an agent's run is recorded into, the chat shape of messages
and the usage metadata (both as the server's OTLP mapping gives them, docs/otel.md), and the trace
id that tells the server not to record the same agent twice when OpenTelemetry exports it too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from agentscope_sdk import tracing
from agentscope_sdk.client import Client, get_client
from agentscope_sdk.tracing import Run, Step, current_run

# The breakpoint actions a framework's hooks allow; the run page offers only these. A step may say
# its own (`metadata.breakpoint_actions`): a model request takes no edited input, a wrapped tool more.
ALL_ACTIONS = ("continue", "edit", "skip", "abort")
CONTINUE_ABORT = ("continue", "abort")
OTEL_FLUSH_TIMEOUT = 5.0


def integration_metadata(framework: str, version: str, actions: Iterable[str]) -> dict[str, Any]:
    return {"integration": {"framework": framework, "version": version, "actions": list(actions)}}


def otel_trace_id() -> str | None:
    """The current OpenTelemetry trace id in hex (as OTLP's run `external_id`), when a recording
    span is current; None without OpenTelemetry."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return format(context.trace_id, "032x")


class AgentRun:
    """An agent's run as an integration records it: a run of its own, or, inside a run already
    going on (`agentscope test`, a function under `@trace`), a custom step of that run, whose
    metadata then gets the framework too.

    A run of its own inside an OpenTelemetry trace takes the trace id as its `external_id` and is
    sent at once: the server then drops that trace's OTLP spans, so the agent is one run, not two."""

    def __init__(
        self,
        client: Client | None,
        agent_name: str,
        *,
        input: Any,
        metadata: dict[str, Any],
    ):
        outer = current_run()
        self.outer = outer
        self.client = client or (outer.client if outer is not None else get_client())
        self.metadata = metadata
        self.step: Step | None = None
        self.run: Run | None = None
        if outer is not None:
            self.step = outer.step(agent_name, "custom", input=input, metadata=metadata)
        else:
            trace_id = otel_trace_id()
            if trace_id is not None:
                metadata = {**metadata, "otel_trace_id": trace_id}
            self.run = self.client.run(agent_name, input=input, metadata=metadata, external_id=trace_id)

    @property
    def enabled(self) -> bool:
        return self.client.enabled

    def start(self) -> None:
        if self.step is not None:
            self.outer.update(metadata=self.metadata)
            self.step.start()
            return
        self.run.__enter__()
        if self.run.external_id is not None:
            self.client.flush(OTEL_FLUSH_TIMEOUT)

    async def astart(self) -> None:
        if self.step is not None:
            self.outer.update(metadata=self.metadata)
            await self.step.astart()
            return
        await self.run.__aenter__()
        if self.run.external_id is not None:
            await asyncio.to_thread(self.client.flush, OTEL_FLUSH_TIMEOUT)

    def end(self, *, output: Any = None, error: BaseException | None = None) -> None:
        if self.step is not None:
            self.step.set_output(output)
            self.step.end(error)
            return
        self.run.set_output(output)
        self.run.__exit__(type(error) if error is not None else None, error, None)


def detach(step: Step) -> None:
    """The step was started in a hook and goes on in another: it is nobody's parent meanwhile."""
    if step._token is not None:
        try:
            tracing._current_step.reset(step._token)
        except ValueError:  # set in another context
            tracing._current_step.set(None)
        step._token = None


def chat_message(role: str, content: Any = None, **fields: Any) -> dict[str, Any]:
    """A message in the chat shape the run page shows (OpenAI's)."""
    message: dict[str, Any] = {"role": role, "content": content}
    message.update({key: value for key, value in fields.items() if value is not None})
    return message


def tool_call(call_id: str | None, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def usage_metadata(
    *, input_tokens: int | None, output_tokens: int | None, total_tokens: int | None = None, **more: int | None
) -> tuple[int | None, dict[str, int]]:
    """(tokens_used, `metadata.usage`) as the OTLP mapping gives them."""
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total_tokens, **more}
    usage = {key: int(value) for key, value in usage.items() if isinstance(value, int) and value >= 0}
    if not usage:
        return None, {}
    total = usage.get("total_tokens")
    if total is None and ("input_tokens" in usage or "output_tokens" in usage):
        total = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
    return total, usage
