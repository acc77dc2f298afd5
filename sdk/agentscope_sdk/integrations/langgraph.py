"""LangGraph and LangChain: a callback handler that records a graph's (or any chain's) runs, and a
tool wrapper through which breakpoints can edit a tool's input or skip it.

    from agentscope_sdk.integrations.langgraph import AgentScopeCallbackHandler, wrap_tools

    tools = wrap_tools([search, calculator])        # optional: edit and skip at breakpoints
    graph = build_graph(tools)                      # your StateGraph / create_react_agent, unchanged
    graph.invoke(inputs, config={"callbacks": [AgentScopeCallbackHandler(agent_name="support")]})

The outermost chain (the graph) is the run; chains and graph nodes are custom steps, chat models LLM
steps (messages, usage, model), tools tool steps, retrievers retrieval steps, nested as LangChain
ran them; LangGraph's internal runs (tagged `langsmith:hidden`) are left out. A tool's step starts
in `on_tool_start`, which LangChain calls before the tool runs and lets block, so a breakpoint stops
any tool there: Continue goes on, Abort raises `agentscope_sdk.Aborted` out of the graph's
`invoke`. A callback can't change what the tool receives, so edit and skip need the tool call
itself: a tool from `wrap_tools` runs with the edited input, or not at all on Skip (the output is
the tool's result). Steps of other tools offer continue and abort only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import langchain_core
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool

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

logger = logging.getLogger("agentscope_sdk")

FRAMEWORK = "langgraph"
HIDDEN = "langsmith:hidden"
WRAPPED = "agentscope_wrapped"  # tool metadata: edit and skip go through the wrapper


def _version() -> str:
    try:
        import langgraph.version

        return f"{langgraph.version.__version__} (langchain-core {langchain_core.__version__})"
    except Exception:
        return f"langchain-core {langchain_core.__version__}"


class AgentScopeCallbackHandler(BaseCallbackHandler):
    """Records what LangChain runs under it; pass it in `config={"callbacks": [...]}`. One handler
    may serve many runs, in threads or tasks at once."""

    raise_error = False  # a fault of ours is logged, never raised into the graph; Aborted (a BaseException) still is
    run_inline = True  # in async graphs too, called in the graph's own task: a pause blocks it

    def __init__(self, *, client: Client | None = None, agent_name: str | None = None):
        super().__init__()
        self.client = client
        self.agent_name = agent_name
        self._runs: dict[UUID, AgentRun] = {}  # by the outermost chain's run id
        self._steps: dict[UUID, tracing.Step] = {}  # by LangChain's run id
        self._where: dict[UUID, tuple[UUID, UUID | None]] = {}  # run id -> (its root, its parent kept)
        self._lock = threading.Lock()
        self.metadata = integration_metadata(FRAMEWORK, _version(), CONTINUE_ABORT)

    # Chains and graph nodes -------------------------------------------------------------------------

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, tags=None, metadata=None, **kw):
        if parent_run_id is None or parent_run_id not in self._where:
            name = self.agent_name or kw.get("name") or _name(serialized) or "graph"
            agent = AgentRun(self.client, name, input=_plain(inputs), metadata=self.metadata)
            if not agent.enabled:
                return
            agent.start()
            if agent.step is not None:
                detach(agent.step)
            with self._lock:
                self._runs[run_id] = agent
                self._where[run_id] = (run_id, agent.step and run_id)
                if agent.step is not None:
                    self._steps[run_id] = agent.step
            return
        if HIDDEN in (tags or ()):
            root, parent = self._where[parent_run_id]
            self._where[run_id] = (root, parent)  # its children hang from its parent
            return
        self._open(run_id, parent_run_id, kw.get("name") or _name(serialized) or "chain", "custom", _plain(inputs))

    def on_chain_end(self, outputs, *, run_id, **kw):
        agent = self._runs.pop(run_id, None)
        if agent is not None:
            self._forget(run_id)
            agent.end(output=_plain(outputs))
            return
        self._close(run_id, output=_plain(outputs))

    def on_chain_error(self, error, *, run_id, **kw):
        agent = self._runs.pop(run_id, None)
        if agent is not None:
            self._forget(run_id)
            agent.end(error=error)
            return
        self._close(run_id, error=error)

    # Chat models ------------------------------------------------------------------------------------

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, metadata=None, **kw):
        params = kw.get("invocation_params") or {}
        model = params.get("model") or params.get("model_name") or (metadata or {}).get("ls_model_name")
        chat = [_message(message) for message in (messages[0] if messages else [])]
        step = self._open(
            run_id, parent_run_id, kw.get("name") or _name(serialized) or "chat", "llm_call", chat, start=False
        )
        if step is None:
            return
        step.set_metadata(breakpoint_actions=list(CONTINUE_ABORT))
        if model:
            step.set_metadata(model=model)
        if (metadata or {}).get("ls_provider"):
            step.set_metadata(provider=metadata["ls_provider"])
        self._start(run_id, step)

    def on_llm_start(self, serialized, prompts, *, run_id, parent_run_id=None, **kw):
        self._open(run_id, parent_run_id, kw.get("name") or _name(serialized) or "llm", "llm_call", list(prompts))

    def on_llm_end(self, response, *, run_id, **kw):
        step = self._steps.get(run_id)
        if step is None:
            return
        generation = response.generations[0][0] if response.generations and response.generations[0] else None
        message = getattr(generation, "message", None)
        step.set_output([_message(message)] if message is not None else getattr(generation, "text", None))
        usage = getattr(message, "usage_metadata", None) or (response.llm_output or {}).get("token_usage") or {}
        tokens, counts = usage_metadata(
            input_tokens=usage.get("input_tokens", usage.get("prompt_tokens")),
            output_tokens=usage.get("output_tokens", usage.get("completion_tokens")),
            total_tokens=usage.get("total_tokens"),
        )
        if tokens is not None:
            step.set_tokens(tokens)
            step.set_metadata(usage=counts)
        info = getattr(generation, "generation_info", None) or {}
        if info.get("finish_reason"):
            step.set_metadata(finish_reasons=[info["finish_reason"]])
        self._close(run_id)

    def on_llm_error(self, error, *, run_id, **kw):
        self._close(run_id, error=error)

    # Tools and retrievers ---------------------------------------------------------------------------

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, metadata=None, inputs=None, **kw):
        name = kw.get("name") or _name(serialized) or "tool"
        value = inputs if inputs is not None else _parsed(input_str)
        step = self._open(run_id, parent_run_id, name, "tool_call", value, start=False)
        if step is None:
            return
        wrapped = bool((metadata or {}).get(WRAPPED))
        step.set_metadata(breakpoint_actions=list(ALL_ACTIONS if wrapped else CONTINUE_ABORT))
        if kw.get("tool_call_id"):
            step.set_metadata(tool_call_id=kw["tool_call_id"])
        self._start(run_id, step)  # a breakpoint waits here; Abort raises out of the tool's run

    def on_tool_end(self, output, *, run_id, **kw):
        self._close(run_id, output=_tool_output(output))

    def on_tool_error(self, error, *, run_id, **kw):
        self._close(run_id, error=error)

    def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kw):
        self._open(run_id, parent_run_id, kw.get("name") or _name(serialized) or "retriever", "retrieval", query)

    def on_retriever_end(self, documents, *, run_id, **kw):
        output = [{"page_content": doc.page_content, "metadata": doc.metadata} for doc in documents]
        self._close(run_id, output=output)

    def on_retriever_error(self, error, *, run_id, **kw):
        self._close(run_id, error=error)

    # Steps ------------------------------------------------------------------------------------------

    def step_of(self, run_id: UUID) -> tracing.Step | None:
        """The step of a LangChain run that is going on (the tool wrapper reads its decision)."""
        return self._steps.get(run_id)

    def _open(self, run_id, parent_run_id, name, step_type, value, *, start=True) -> tracing.Step | None:
        where = self._where.get(parent_run_id) if parent_run_id is not None else None
        if where is None:
            return None  # not under a run this handler records
        root, parent = where
        agent = self._runs.get(root)
        if agent is None:
            return None
        run = agent.outer or agent.run
        step = run.step(str(name), step_type, input=value)
        parent_step = self._steps.get(parent) if parent is not None else None
        step.parent_id = parent_step.id if parent_step is not None else None
        with self._lock:
            self._where[run_id] = (root, run_id)
            self._steps[run_id] = step
        if start:
            self._start(run_id, step)
        return step

    def _start(self, run_id: UUID, step: tracing.Step) -> None:
        try:
            step.start()
        except BaseException:
            self._forget(run_id)
            raise
        finally:
            detach(step)

    def _close(self, run_id: UUID, *, output: Any = None, error: BaseException | None = None) -> None:
        step = self._steps.get(run_id)
        self._forget(run_id)
        if step is None or step.ended:
            return
        if error is None and output is not None:
            step.set_output(output)
        step.end(error)

    def _forget(self, run_id: UUID) -> None:
        with self._lock:
            self._steps.pop(run_id, None)
            self._where.pop(run_id, None)


# The tool wrapper -----------------------------------------------------------------------------------


class AgentScopeTool(BaseTool):
    """A LangChain tool that runs another one as a breakpoint decided: with the edited input, or not
    at all (Skip: the person's output is the result). Same name, description and arguments."""

    tool: BaseTool

    def _decision(self, run_manager: Any) -> tracing.Step | None:
        if run_manager is None:
            return None
        for handler in run_manager.handlers:
            if isinstance(handler, AgentScopeCallbackHandler):
                step = handler.step_of(run_manager.run_id)
                if step is not None:
                    return step
        return None

    def _call(self, step: tracing.Step | None, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if step is None or step.decision is None or not step.decision.edited:
            return args, kwargs
        edited = step.input if isinstance(step.input, dict) else {"input": step.input}
        return self.tool._to_args_and_kwargs(edited, None)

    def _run(self, *args: Any, run_manager: Any = None, config: Any = None, **kwargs: Any) -> Any:
        step = self._decision(run_manager)
        if step is not None and step.skipped:
            return step.output
        args, kwargs = self._call(step, args, kwargs)
        return self.tool._run(*args, **_extras(self.tool._run, run_manager, config), **kwargs)

    async def _arun(self, *args: Any, run_manager: Any = None, config: Any = None, **kwargs: Any) -> Any:
        step = self._decision(run_manager)
        if step is not None and step.skipped:
            return step.output
        args, kwargs = self._call(step, args, kwargs)
        return await self.tool._arun(*args, **_extras(self.tool._arun, run_manager, config), **kwargs)


def wrap_tools(tools: Sequence[BaseTool]) -> list[BaseTool]:
    """The tools, each wrapped so that a breakpoint's edited input or Skip reaches it. Use the
    result wherever the tools go (`ToolNode(...)`, `create_react_agent(model, tools)`, `bind_tools`)."""
    return [wrap_tool(tool) for tool in tools]


def wrap_tool(tool: BaseTool) -> BaseTool:
    if isinstance(tool, AgentScopeTool):
        return tool
    return AgentScopeTool(
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        return_direct=tool.return_direct,
        response_format=tool.response_format,
        handle_tool_error=tool.handle_tool_error,
        handle_validation_error=tool.handle_validation_error,
        metadata={**(tool.metadata or {}), WRAPPED: True},
        tags=tool.tags,
        tool=tool,
    )


def _extras(method: Any, run_manager: Any, config: Any) -> dict[str, Any]:
    import inspect

    parameters = inspect.signature(method).parameters
    extras: dict[str, Any] = {}
    if "run_manager" in parameters:
        extras["run_manager"] = run_manager
    if "config" in parameters:
        extras["config"] = config
    return extras


# What is recorded -----------------------------------------------------------------------------------

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}


def _message(message: Any) -> dict[str, Any]:
    if not isinstance(message, BaseMessage):
        return chat_message("user", str(message))
    role = _ROLES.get(message.type, message.type)
    calls = [
        tool_call(call.get("id"), call.get("name"), json.dumps(call.get("args"), ensure_ascii=False))
        for call in getattr(message, "tool_calls", None) or []
    ]
    return chat_message(
        role,
        message.content if message.content != "" or not calls else None,
        tool_calls=calls or None,
        tool_call_id=getattr(message, "tool_call_id", None),
        name=message.name if role == "tool" else None,
    )


def _plain(value: Any) -> Any:
    """A chain's inputs or outputs, with LangChain messages in the chat shape."""
    if isinstance(value, BaseMessage):
        return _message(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _tool_output(output: Any) -> Any:
    content = getattr(output, "content", output)  # a ToolMessage: its content
    return _parsed(content) if isinstance(content, str) else _plain(content)


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _name(serialized: Any) -> str | None:
    if not isinstance(serialized, dict):
        return None
    ids = serialized.get("id")
    return serialized.get("name") or (ids[-1] if isinstance(ids, list) and ids else None)


__all__ = ["AgentScopeCallbackHandler", "AgentScopeTool", "wrap_tool", "wrap_tools"]
