"""pydantic-ai: a capability that records an agent's runs and lets breakpoints stop its tools.

    from agentscope_sdk.integrations.pydantic_ai import AgentScope

    agent = Agent("openai:gpt-4o", name="support", capabilities=[AgentScope()])
    # or, for an agent made elsewhere: agent = instrument(agent)

A run per agent run (named after the agent), an LLM step per model request (messages, usage, model),
a tool step per tool call, as the OTLP mapping records pydantic-ai's own spans. Breakpoints go
through pydantic-ai's hooks: before a tool is validated (`wrap_tool_validate`) the step may pause;
Continue goes on, an edited input is what pydantic-ai validates and the tool receives, Skip returns
the given output to the model as the tool's result (`wrap_tool_execute` doesn't run the tool),
Abort raises `agentscope_sdk.Aborted` out of the agent's run. After a tool raised, an `on_error`
breakpoint may pause (Skip: the output is the tool's result; Abort; Continue: the error goes on).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic_ai
from pydantic_ai.agent import AbstractAgent, WrapperAgent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from agentscope_sdk import tracing
from agentscope_sdk.client import Client
from agentscope_sdk.integrations._common import (
    ALL_ACTIONS,
    CONTINUE_ABORT,
    AgentRun,
    chat_message,
    detach,
    integration_metadata,
    tool_call,
    usage_metadata,
)

FRAMEWORK = "pydantic-ai"
METADATA = integration_metadata(FRAMEWORK, pydantic_ai.__version__, ALL_ACTIONS)

# The agent run being recorded, for the hooks of its model requests and tools.
_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar("agentscope_pydantic_ai", default=None)


@dataclass
class _Recording:
    agent_run: AgentRun
    tools: dict[str, tracing.Step] = field(default_factory=dict)  # started at validation, by tool call id

    @property
    def run(self) -> tracing.Run:
        return self.agent_run.outer or self.agent_run.run


@dataclass
class AgentScope(AbstractCapability[Any]):
    """Records the agent's runs through `client` (the default client when None)."""

    client: Client | None = None

    async def wrap_run(self, ctx, *, handler):
        agent = AgentRun(self.client, _agent_name(ctx), input=ctx.prompt, metadata=METADATA)
        if not agent.enabled:
            return await handler()
        await agent.astart()
        token = _recording.set(_Recording(agent))
        try:
            result = await handler()
        except BaseException as exc:
            agent.end(error=exc)
            raise
        finally:
            _recording.reset(token)
        agent.end(output=result.output)
        return result

    async def wrap_model_request(self, ctx, *, request_context, handler):
        recording = _recording.get()
        if recording is None:
            return await handler(request_context)
        model = request_context.model
        step = recording.run.step(
            f"chat {model.model_name}",
            "llm_call",
            input=_input_messages(request_context.messages, request_context.model_request_parameters),
            metadata={"model": model.model_name, "provider": model.system, "breakpoint_actions": list(CONTINUE_ABORT)},
        )
        await step.astart()
        try:
            response = await handler(request_context)
        except BaseException as exc:
            await step.aend(exc)
            raise
        _record_response(step, response)
        await step.aend()
        return response

    async def wrap_tool_validate(self, ctx, *, call, tool_def, args, handler):
        recording = _recording.get()
        if recording is None:
            return await handler(args)
        step = recording.run.step(
            call.tool_name, "tool_call", input=_arguments(args), metadata={"tool_call_id": call.tool_call_id}
        )
        await step.astart()  # a breakpoint waits here; Abort raises
        detach(step)
        recording.tools[call.tool_call_id] = step
        if step.skipped:
            return args if isinstance(args, dict) else {}  # not validated: the tool won't run
        try:
            return await handler(step.input if step.decision is not None and step.decision.edited else args)
        except BaseException as exc:
            recording.tools.pop(call.tool_call_id, None)
            await step.aend(exc)
            raise

    async def wrap_tool_execute(self, ctx, *, call, tool_def, args, handler):
        recording = _recording.get()
        step = recording.tools.pop(call.tool_call_id, None) if recording is not None else None
        if step is None:
            return await handler(args)
        if step.skipped:
            await step.aend()
            return step.output
        token = tracing._current_step.set(step)  # what the tool records is the tool step's child
        try:
            result = await handler(args)
        except Exception as exc:
            decision = await step.aend(exc)  # an on_error breakpoint may pause here; Abort raises
            if decision is not None and decision.action == "skip":
                return decision.output
            raise
        except BaseException as exc:
            await step.aend(exc)
            raise
        finally:
            tracing._current_step.reset(token)
        step.set_output(result)
        await step.aend()
        return result


class _Instrumented(WrapperAgent[Any, Any]):
    """An existing agent with the capability added to each of its runs."""

    def __init__(self, wrapped: AbstractAgent[Any, Any], capability: AgentScope):
        super().__init__(wrapped)
        self._agentscope = capability

    def iter(self, *args: Any, capabilities: Sequence[Any] | None = None, **kwargs: Any):
        return super().iter(*args, capabilities=[*(capabilities or ()), self._agentscope], **kwargs)


def instrument(agent: AbstractAgent[Any, Any], *, client: Client | None = None) -> AbstractAgent[Any, Any]:
    """The agent, recorded: use what this returns in place of `agent` (runs, tools and all)."""
    return _Instrumented(agent, AgentScope(client))


# What is recorded -----------------------------------------------------------------------------------


def _agent_name(ctx: Any) -> str:
    agent = getattr(ctx, "agent", None)
    return getattr(agent, "name", None) or "agent"


def _arguments(args: Any) -> Any:
    if isinstance(args, str):
        try:
            return pydantic_ai.messages.ToolCallPart("", args).args_as_dict()
        except Exception:
            return args
    return args


def _input_messages(messages: list[ModelMessage], parameters: Any) -> list[dict]:
    chat: list[dict] = []
    instructions = [part.content for part in getattr(parameters, "instruction_parts", None) or []]
    if instructions:
        chat.append(chat_message("system", "\n\n".join(str(text) for text in instructions)))
    for message in messages:
        chat += _request_messages(message) if isinstance(message, ModelRequest) else _response_messages(message)
    return chat


def _request_messages(message: ModelRequest) -> list[dict]:
    chat = []
    for part in message.parts:
        if isinstance(part, SystemPromptPart):
            chat.append(chat_message("system", part.content))
        elif isinstance(part, UserPromptPart):
            chat.append(chat_message("user", part.content if isinstance(part.content, str) else list(part.content)))
        elif isinstance(part, ToolReturnPart):
            chat.append(chat_message("tool", part.content, tool_call_id=part.tool_call_id, name=part.tool_name))
        elif isinstance(part, RetryPromptPart):
            if part.tool_name:
                text = part.model_response()
                chat.append(chat_message("tool", text, tool_call_id=part.tool_call_id, name=part.tool_name))
            else:
                chat.append(chat_message("user", part.model_response()))
    return chat


def _response_messages(message: ModelResponse) -> list[dict]:
    texts = [part.content for part in message.parts if isinstance(part, TextPart)]
    calls = [
        tool_call(part.tool_call_id, part.tool_name, part.args_as_json_str())
        for part in message.parts
        if isinstance(part, ToolCallPart)
    ]
    return [chat_message("assistant", "".join(texts) or None, tool_calls=calls or None)]


def _record_response(step: tracing.Step, response: ModelResponse) -> None:
    step.set_output(_response_messages(response))
    usage = response.usage
    tokens, counts = usage_metadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens or None,
        cache_write_tokens=usage.cache_write_tokens or None,
    )
    if tokens is not None:
        step.set_tokens(tokens)
        step.set_metadata(usage=counts)
    if response.model_name:
        step.set_metadata(model=response.model_name)
    if response.finish_reason:
        step.set_metadata(finish_reasons=[response.finish_reason])


__all__ = ["AgentScope", "instrument"]
