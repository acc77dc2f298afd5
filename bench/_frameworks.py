"""The agents `bench/sdk_overhead.py` times with and without each framework integration: a
pydantic-ai agent on `FunctionModel`, a LangGraph graph on langchain-core's fake chat model, and an
OpenAI Agents SDK agent whose Chat Completions model is a local server (all offline). Each asks for
one tool call, then answers: three model or tool steps, plus the framework's own around them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def pydantic_ai_agent(client, *, how: str):
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import FunctionModel

    from agentscope_sdk.integrations.pydantic_ai import AgentScope

    def model(messages, info):
        if any(isinstance(part, ToolReturnPart) for part in messages[-1].parts):
            return ModelResponse(parts=[TextPart("sunny")])
        return ModelResponse(parts=[ToolCallPart("search", {"query": "Paris"})])

    capabilities = {"bare": [], "hooks": [_noop_capability()], "recorded": [AgentScope(client)]}[how]
    agent = Agent(FunctionModel(model), name="bench", capabilities=capabilities)

    @agent.tool_plain
    def search(query: str) -> str:
        return f"sunny in {query}"

    return lambda: agent.run_sync("Weather in Paris?")


def langgraph_agent(client, *, how: str):
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    from agentscope_sdk.integrations.langgraph import AgentScopeCallbackHandler, wrap_tools

    @tool
    def search(query: str) -> str:
        """The weather."""
        return f"sunny in {query}"

    asks = AIMessage(content="", tool_calls=[{"name": "search", "args": {"query": "Paris"}, "id": "call_1"}])
    state = {"model": None}

    def agent(messages: MessagesState):
        return {"messages": [state["model"].invoke(messages["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(wrap_tools([search]) if how == "recorded" else [search]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    compiled = graph.compile()
    handlers = {"bare": [], "hooks": [BaseCallbackHandler()], "recorded": [AgentScopeCallbackHandler(client=client)]}
    config = {"callbacks": handlers[how]}

    def run():
        state["model"] = GenericFakeChatModel(messages=iter([asks, AIMessage(content="sunny")]))
        return compiled.invoke({"messages": [("user", "Weather in Paris?")]}, config=config)

    return run


class _ChatCompletions(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any(message.get("role") == "tool" for message in body["messages"]):
            message = {"role": "assistant", "content": "sunny"}
        else:
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search", "arguments": '{"query": "Paris"}'},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        answer = {
            "id": "c", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49},
        }  # fmt: skip
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def openai_agents_agent(client, *, how: str):
    import asyncio

    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        Runner,
        add_trace_processor,
        function_tool,
        set_trace_processors,
    )
    from openai import AsyncOpenAI

    from agentscope_sdk.integrations import openai_agents

    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatCompletions)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    @function_tool
    def search(query: str) -> str:
        """The weather."""
        return f"sunny in {query}"

    openai = AsyncOpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="sk-local")
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=openai)
    agent = Agent(name="bench", tools=[search], model=model)
    set_trace_processors([])  # nothing exported to OpenAI; the integration's processor alone when instrumented
    if how == "hooks":
        add_trace_processor(_NoopProcessor())
    if how == "recorded":
        openai_agents._installed.clear()
        openai_agents.instrument(agent, client=client)
    loop = asyncio.new_event_loop()
    return lambda: loop.run_until_complete(Runner.run(agent, "Weather in Paris?"))


def _noop_capability():
    """A pydantic-ai capability with the integration's hooks doing nothing: what the hooks cost."""
    from dataclasses import dataclass

    from pydantic_ai.capabilities import AbstractCapability

    @dataclass
    class Noop(AbstractCapability):
        async def wrap_run(self, ctx, *, handler):
            return await handler()

        async def wrap_model_request(self, ctx, *, request_context, handler):
            return await handler(request_context)

        async def wrap_tool_validate(self, ctx, *, call, tool_def, args, handler):
            return await handler(args)

        async def wrap_tool_execute(self, ctx, *, call, tool_def, args, handler):
            return await handler(args)

    return Noop()


class _NoopProcessor:
    def on_trace_start(self, trace): ...
    def on_trace_end(self, trace): ...
    def on_span_start(self, span): ...
    def on_span_end(self, span): ...
    def shutdown(self): ...
    def force_flush(self): ...


FRAMEWORKS = {
    "pydantic-ai": pydantic_ai_agent,
    "langgraph": langgraph_agent,
    "openai-agents": openai_agents_agent,
}
