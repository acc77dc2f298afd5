"""The OpenAI Agents SDK: a tracing processor that records its traces, and run hooks through which
breakpoints stop its tools.

    from agentscope_sdk.integrations.openai_agents import instrument

    instrument(agent)                       # records every trace; breakpoints on this agent's tools
    result = await Runner.run(agent, "Where is my order?")

A trace is a run, named after its first agent; agent, generation (messages, usage, model), function
(tool), handoff, guardrail, response and custom spans are steps, nested as the SDK nested them (its
`task` and `turn` spans are left out: their children hang from their parent). Breakpoints go through
what the SDK awaits before each function tool: the input guardrail `instrument` gives the agents'
tools, and the run hooks (`on_tool_start`). Continue goes on; Abort raises `agentscope_sdk.Aborted`
out of `Runner.run` and the run ends failed; Skip (through the guardrail only) rejects the call, so
the model gets the person's output as the tool's result. Nothing in the SDK lets a hook or a
guardrail change a tool's arguments, so no paused tool offers an edited input.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from agents import Agent, FunctionTool, RunHooks, add_trace_processor
from agents.lifecycle import AgentHooks
from agents.tool_guardrails import ToolGuardrailFunctionOutput, ToolInputGuardrail, ToolInputGuardrailData
from agents.tracing import TracingProcessor, get_current_span, get_current_trace

from agentscope_sdk import tracing
from agentscope_sdk.client import Client
from agentscope_sdk.control import Aborted
from agentscope_sdk.integrations._common import (
    CONTINUE_ABORT,
    AgentRun,
    detach,
    integration_metadata,
    usage_metadata,
)

FRAMEWORK = "openai-agents"
# A tool of an agent given to `instrument` can be skipped too (through its input guardrail); the
# tools of other agents, paused by the run hooks alone, say continue and abort only.
GUARDED_ACTIONS = ("continue", "skip", "abort")
GUARDRAIL = "agentscope_breakpoint"
METADATA = integration_metadata(FRAMEWORK, version("openai-agents"), GUARDED_ACTIONS)
LEFT_OUT = ("task", "turn")  # the SDK's own grouping spans
LEAVES = ("generation", "response", "function")  # recorded when they end (a tool's, when the hooks start it)


@dataclass
class _Trace:
    agent: AgentRun | None = None
    steps: dict[str, tracing.Step] = field(default_factory=dict)  # by span id
    parents: dict[str, str | None] = field(default_factory=dict)  # span id -> the recorded span above it
    output: Any = None
    error: BaseException | dict | None = None

    @property
    def run(self) -> tracing.Run | None:
        return None if self.agent is None else (self.agent.outer or self.agent.run)

    def parent_step_id(self, span_id: str) -> str | None:
        parent = self.steps.get(self.parents.get(span_id) or "")
        if parent is not None:
            return parent.id
        return self.agent.step.id if self.agent is not None and self.agent.step is not None else None


class AgentScopeProcessor(TracingProcessor):
    """Records the SDK's traces through `client` (the default client when None).

    A span's step is posted running when the span starts (a parent before its children) and
    completed when it ends; a function span's step waits for the run hooks, which post it where a
    breakpoint may stop it. The processor itself never pauses: the SDK calls it synchronously, on
    the event loop."""

    def __init__(self, client: Client | None = None):
        self.client = client
        self._traces: dict[str, _Trace] = {}
        self._lock = threading.Lock()

    def on_trace_start(self, trace) -> None:
        with self._lock:
            self._traces[trace.trace_id] = _Trace()

    def on_trace_end(self, trace) -> None:
        with self._lock:
            recorded = self._traces.pop(trace.trace_id, None)
        if recorded is None or recorded.agent is None:
            return
        error = recorded.error
        recorded.agent.end(output=recorded.output, error=error if isinstance(error, BaseException) else None)

    def on_span_start(self, span) -> None:
        recorded = self._traces.get(span.trace_id)
        if recorded is None:
            return
        data = span.span_data
        if recorded.agent is None and data.type == "agent" and not self._start_run(recorded, span, data.name):
            return
        parent = span.parent_id if span.parent_id in recorded.steps else recorded.parents.get(span.parent_id)
        recorded.parents[span.span_id] = parent
        if recorded.run is None or data.type in LEFT_OUT:
            return
        name, step_type, _ = _step(data)
        step = recorded.run.step(name, step_type)
        step.parent_id = recorded.parent_step_id(span.span_id)
        recorded.steps[span.span_id] = step
        above = recorded.steps.get(parent or "")
        if above is not None and not above._started:  # e.g. an agent run as a tool: its function step
            _open(above)
        if data.type not in LEAVES:
            _open(step)

    def _start_run(self, recorded: _Trace, span: Any, name: str) -> bool:
        agent = AgentRun(self.client, name, input=None, metadata=METADATA)
        if not agent.enabled:
            self._traces.pop(span.trace_id, None)
            return False
        agent.start()
        if agent.step is not None:
            detach(agent.step)
        recorded.agent = agent
        return True

    def on_span_end(self, span) -> None:
        recorded = self._traces.get(span.trace_id)
        step = recorded.steps.get(span.span_id) if recorded is not None else None
        if step is None or step.ended:
            return
        error = _span_error(span)
        if error is not None and span.span_data.type == "agent" and recorded.error is None:
            recorded.error = error
        _name, step_type, fields = _step(span.span_data)
        if step_type == "llm_call" and fields.get("output"):
            recorded.output = _answer(fields["output"])
        if not step._started:  # a leaf: recorded whole, now that its input is known
            recorded.run.log_step(
                step.name,
                step.step_type,
                error=error,
                started_at=_epoch(span.started_at),
                ended_at=_epoch(span.ended_at),
                parent_id=step.parent_id,
                step_id=step.id,
                **{"metadata": step.metadata or None, **fields},
            )
            step.ended = True
            return
        fields.pop("input", None)  # posted when it started
        _close(step, error=error, **fields)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        if self.client is not None:
            self.client.flush()

    # The hooks' side -----------------------------------------------------------------------------------

    async def tool_start(self, context: Any, tool: Any, *, actions: tuple[str, ...] = CONTINUE_ABORT):
        """Post the tool's step where a breakpoint may stop it; the step, or None when it was
        posted already (by the agent's guardrail, before the hooks) or isn't recorded."""
        trace, span = get_current_trace(), get_current_span()
        recorded = self._traces.get(trace.trace_id) if trace is not None else None
        step = recorded.steps.get(span.span_id) if recorded is not None and span is not None else None
        if step is None or step._started:
            return None
        step.name = getattr(tool, "name", None) or step.name
        step.input = _parsed(getattr(context, "tool_arguments", None))
        step.set_metadata(breakpoint_actions=list(actions))
        if getattr(context, "tool_call_id", None):
            step.set_metadata(tool_call_id=context.tool_call_id)
        try:
            await step.astart()  # a breakpoint waits here
        except Aborted as aborted:
            recorded.error = aborted
            raise
        finally:
            detach(step)
        return step

    def guardrail(self, tool: Any) -> ToolInputGuardrail:
        """A tool input guardrail through which a breakpoint can also skip the tool: the SDK sends
        the model a rejected call's message as the tool's result."""

        async def agentscope_breakpoint(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
            step = await self.tool_start(data.context, tool, actions=GUARDED_ACTIONS)
            if step is None or not step.skipped:
                return ToolGuardrailFunctionOutput.allow()
            output = step.output if isinstance(step.output, str) else json.dumps(step.output, ensure_ascii=False)
            return ToolGuardrailFunctionOutput.reject_content(output, output_info={"agentscope": "skipped"})

        return ToolInputGuardrail(guardrail_function=agentscope_breakpoint, name=GUARDRAIL)


def _open(step: tracing.Step) -> None:
    """Post the step running, without waiting at a breakpoint (only the hooks may pause)."""
    if step._started:
        return
    body = step._open()
    detach(step)
    if body is not None:
        step.run.client.emit("step.create", body)


def _close(step: tracing.Step, *, error: Any, input: Any = None, output: Any = None, tokens_used=None, metadata=None):
    if output is not None:
        step.set_output(output)
    if tokens_used is not None:
        step.set_tokens(tokens_used)
    if metadata:
        step.set_metadata(**{key: value for key, value in metadata.items() if value is not None})
    body = step._close(error)
    if body is None:
        return
    if input is not None:
        body["input"] = step.run.client.jsonable(input)
    step.run.client.emit("step.update", body)


class AgentScopeRunHooks(RunHooks):
    """Pass as `Runner.run(..., hooks=...)`: breakpoints stop any tool of the run."""

    def __init__(self, processor: AgentScopeProcessor):
        self.processor = processor

    async def on_tool_start(self, context, agent, tool) -> None:
        await self.processor.tool_start(context, tool)


class AgentScopeAgentHooks(AgentHooks):
    """Set as an agent's `hooks` (what `instrument(agent)` does): breakpoints stop its tools."""

    def __init__(self, processor: AgentScopeProcessor, wrapped: AgentHooks | None = None):
        self.processor = processor
        self.wrapped = wrapped

    def __getattribute__(self, name: str) -> Any:
        wrapped = object.__getattribute__(self, "wrapped")
        if name.startswith("on_") and name != "on_tool_start" and wrapped is not None:
            return getattr(wrapped, name)
        return object.__getattribute__(self, name)

    async def on_tool_start(self, context, agent, tool) -> None:
        if self.wrapped is not None:
            await self.wrapped.on_tool_start(context, agent, tool)
        await self.processor.tool_start(context, tool)


_installed: dict[int, AgentScopeProcessor] = {}
_install_lock = threading.Lock()


def processor(client: Client | None = None) -> AgentScopeProcessor:
    """The processor recording through `client`, added to the SDK's trace processors once."""
    with _install_lock:
        found = _installed.get(id(client))
        if found is None:
            found = _installed[id(client)] = AgentScopeProcessor(client)
            add_trace_processor(found)
        return found


def instrument(*agents: Agent, client: Client | None = None) -> AgentScopeRunHooks:
    """Record every run of the SDK, and let breakpoints stop the tools of `agents` (and of the agents
    they hand off to). Returns run hooks too, for `Runner.run(..., hooks=...)` with agents made later."""
    recording = processor(client)
    seen: set[int] = set()
    todo = list(agents)
    while todo:
        agent = todo.pop()
        if id(agent) in seen or not isinstance(agent, Agent):
            continue
        seen.add(id(agent))
        if not isinstance(agent.hooks, AgentScopeAgentHooks):
            agent.hooks = AgentScopeAgentHooks(recording, agent.hooks)
        for tool in agent.tools:
            guards = getattr(tool, "tool_input_guardrails", False)
            if isinstance(tool, FunctionTool) and not any(g.name == GUARDRAIL for g in guards or ()):
                tool.tool_input_guardrails = [*(guards or ()), recording.guardrail(tool)]
        todo += [getattr(handoff, "agent", handoff) for handoff in agent.handoffs]
    return AgentScopeRunHooks(recording)


# What is recorded -----------------------------------------------------------------------------------


def _step(data: Any) -> tuple[str, str, dict[str, Any]]:
    kind = data.type
    if kind == "generation":
        tokens, usage = usage_metadata(
            input_tokens=(data.usage or {}).get("input_tokens"),
            output_tokens=(data.usage or {}).get("output_tokens"),
            total_tokens=(data.usage or {}).get("total_tokens"),
        )
        metadata = {"model": data.model, **({"usage": usage} if usage else {})}
        return (
            f"chat {data.model}",
            "llm_call",
            {
                "input": _messages(data.input),
                "output": _messages(data.output),
                "tokens_used": tokens,
                "metadata": metadata,
            },
        )
    if kind == "response":
        response = data.response
        usage = getattr(response, "usage", None)
        tokens, counts = usage_metadata(
            input_tokens=getattr(usage, "input_tokens", None),
            output_tokens=getattr(usage, "output_tokens", None),
            total_tokens=getattr(usage, "total_tokens", None),
        )
        model = getattr(response, "model", None)
        output = getattr(response, "output_text", None)
        metadata = {
            "model": model,
            "response_id": getattr(response, "id", None),
            **({"usage": counts} if counts else {}),
        }
        return (
            f"response {model or ''}".strip(),
            "llm_call",
            {
                "input": data.input,
                "output": [{"role": "assistant", "content": output}] if output is not None else None,
                "tokens_used": tokens,
                "metadata": metadata,
            },
        )
    if kind == "function":
        return data.name, "tool_call", {"input": _parsed(data.input), "output": _parsed(data.output)}
    if kind == "agent":
        metadata = {"tools": data.tools, "handoffs": data.handoffs, "output_type": data.output_type}
        return data.name, "custom", {"metadata": metadata}
    if kind == "handoff":
        return (
            f"handoff to {data.to_agent}",
            "custom",
            {"input": {"from_agent": data.from_agent, "to_agent": data.to_agent}},
        )
    if kind == "guardrail":
        return f"guardrail {data.name}", "custom", {"output": {"triggered": data.triggered}}
    exported = data.export()
    return str(exported.get("name") or kind), "custom", {"metadata": {"span": exported}}


def _messages(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [
        {key: item for key, item in message.items() if item is not None} if isinstance(message, dict) else message
        for message in value
    ]


def _answer(messages: Any) -> Any:
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return messages[-1].get("content")
    return None


def _span_error(span: Any) -> dict | None:
    error = span.error
    if not error:
        return None
    return {"message": error.get("message"), **({"data": error["data"]} if error.get("data") else {})}


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _epoch(value: Any) -> float | None:
    from datetime import datetime

    if not value:
        return None
    return datetime.fromisoformat(value).timestamp()


__all__ = ["AgentScopeAgentHooks", "AgentScopeProcessor", "AgentScopeRunHooks", "instrument", "processor"]
