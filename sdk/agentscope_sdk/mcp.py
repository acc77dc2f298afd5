"""Record what an MCP client session does: every tool it lists and every tool call it makes.

    from mcp import ClientSession
    from agentscope_sdk.mcp import instrument

    async with ClientSession(read, write) as session:
        instrument(session, server_name="docs")
        await session.initialize()
        tools = await session.list_tools()           # each tool is registered in AgentScope
        result = await session.call_tool("search", {"query": "mars"})   # logged with its latency

Works with the official `mcp` package's `ClientSession` (pip install "agentscope-sdk[mcp]"), and
with any object that has its `list_tools` / `call_tool` coroutines. Inside a traced run, each call
is also a `tool_call` step of the run, whose metadata holds the log's id (`mcp_log_id`).
Recording goes through the client's background sender: it never blocks nor raises into the
session, and the session's answers and exceptions reach the caller unchanged.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import TYPE_CHECKING, Any

from agentscope_sdk._ids import new_id
from agentscope_sdk.client import Client, get_client
from agentscope_sdk.tracing import current_run

if TYPE_CHECKING:
    from agentscope_sdk.tracing import Run

logger = logging.getLogger("agentscope_sdk")

__all__ = ["instrument", "tool_body"]

_MARK = "_agentscope_instrumented"


def instrument(session: Any, *, server_name: str | None = None, client: Client | None = None) -> Any:
    """Wrap `session` (in place) so its tools and calls are recorded; returns the session.

    `server_name` defaults to the name the server gives in its initialize answer; `client` to the
    run's client inside a traced run, else the SDK's default client. Instrumenting twice is a no-op.
    """
    if getattr(session, _MARK, False):
        return session
    recorder = _Recorder(session, server_name=server_name, client=client)
    list_tools, call_tool = session.list_tools, session.call_tool
    initialize = getattr(session, "initialize", None)

    @functools.wraps(list_tools)
    async def recorded_list_tools(*args: Any, **kwargs: Any) -> Any:
        result = await list_tools(*args, **kwargs)
        recorder.tools_listed(result)
        return result

    @functools.wraps(call_tool)
    async def recorded_call_tool(name: str, arguments: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        return await recorder.call(call_tool, name, arguments, args, kwargs)

    session.list_tools, session.call_tool = recorded_list_tools, recorded_call_tool
    if initialize is not None:

        @functools.wraps(initialize)
        async def recorded_initialize(*args: Any, **kwargs: Any) -> Any:
            result = await initialize(*args, **kwargs)
            recorder.initialized(result)
            return result

        session.initialize = recorded_initialize
    setattr(session, _MARK, True)
    return session


def tool_body(tool: dict[str, Any], server_name: str | None) -> dict[str, Any]:
    """The `mcp.tool` event of a tool as `tools/list` gives it (camelCase keys, as on the wire).
    Every definition field is sent, null when absent, so a field the server dropped is seen to go."""
    return {
        "tool_name": str(tool.get("name")),
        "title": tool.get("title"),
        "description": tool.get("description"),
        "input_schema": tool.get("inputSchema"),
        "output_schema": tool.get("outputSchema"),
        "annotations": tool.get("annotations"),
        "server_name": server_name,
    }


def result_error(result: dict[str, Any]) -> dict[str, Any] | None:
    """The error of a `tools/call` result that has `isError` set: the text of its content."""
    if not result.get("isError"):
        return None
    content = result.get("content") or []
    texts = [part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"]
    return {"message": "\n".join(texts) or "The tool reported an error."}


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat()


class _Recorder:
    def __init__(self, session: Any, *, server_name: str | None, client: Client | None):
        self.session = session
        self.server_name = server_name
        self.explicit_client = client

    def client(self, run: Run | None) -> Client:
        if self.explicit_client is not None:
            return self.explicit_client
        if run is not None:
            return run.client
        return get_client()

    def server(self) -> str | None:
        if self.server_name is None:
            info = getattr(self.session, "server_info", None)  # mcp 2.x, once initialized
            self.server_name = getattr(info, "name", None)
        return self.server_name

    def initialized(self, result: Any) -> None:
        if self.server_name is None:
            info = _dump(result).get("serverInfo") or {}
            self.server_name = info.get("name")

    def tools_listed(self, result: Any) -> None:
        try:
            client = self.client(current_run())
            for tool in _dump(result).get("tools") or []:
                client.emit("mcp.tool", {k: client.jsonable(v) for k, v in tool_body(tool, self.server()).items()})
        except Exception:
            logger.exception("AgentScope: could not record an MCP tool listing")

    async def call(self, call_tool: Any, name: str, arguments: Any, args: tuple, kwargs: dict) -> Any:
        call = _Call(run=current_run(), log_id=new_id(), name=name, arguments=arguments)
        step = self.start_step(call)
        try:
            result = await call_tool(name, arguments, *args, **kwargs)
        except BaseException as exc:
            self.record(call, step, exception=exc)
            raise
        self.record(call, step, result=result)
        return result

    def record(self, call: _Call, step: Any, *, result: Any = None, exception: BaseException | None = None) -> None:
        """Logs the call (and ends its step): never raises, so the answer reaches the caller as it came."""
        latency_ms = round((time.perf_counter() - call.started) * 1000)
        try:
            if exception is not None:
                response, error = None, _exception_error(exception)
            else:
                response = _dump(result)
                error = result_error(response)
            self.log(call, latency_ms, "response" if error is None else "error", response=response, error=error)
        except Exception:
            logger.exception("AgentScope: could not record an MCP call")
            response, error = None, None
        self.end_step(step, response, error)

    def start_step(self, call: _Call) -> Any:
        if call.run is None:
            return None
        try:
            metadata = {"mcp_log_id": call.log_id, "mcp_server": self.server()}
            return call.run.step(call.name, "tool_call", input=call.arguments, metadata=metadata).start()
        except Exception:
            logger.exception("AgentScope: could not start the step of an MCP call")
            return None

    def end_step(self, step: Any, output: Any, error: dict | None) -> None:
        if step is None:
            return
        try:
            step.set_output(output)
            step.end(error=error)
        except Exception:
            logger.exception("AgentScope: could not end the step of an MCP call")

    def log(self, call: _Call, latency_ms: int, log_type: str, *, response: Any, error: Any) -> None:
        client = self.client(call.run)
        body: dict[str, Any] = {
            "id": call.log_id,
            "tool_name": call.name,
            "log_type": log_type,
            "request": client.jsonable({"name": call.name, "arguments": call.arguments}),
            "latency_ms": latency_ms,
            "created_at": iso(call.started_at),
        }
        if response is not None:
            body["response"] = client.jsonable(response)
        if error is not None:
            body["error"] = client.jsonable(error)
        if call.run is not None and call.run.client is client:
            body["run_id"] = call.run.id
        client.emit("mcp.log", body)


class _Call:
    """One `call_tool` in flight: what it asked, when, and in which run."""

    def __init__(self, *, run: Run | None, log_id: str, name: str, arguments: Any):
        self.run, self.log_id, self.name, self.arguments = run, log_id, name, arguments
        self.started_at, self.started = time.time(), time.perf_counter()


def _dump(value: Any) -> dict[str, Any]:
    """A pydantic model of the `mcp` package as its JSON on the wire (camelCase keys)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value if isinstance(value, dict) else {}


def _exception_error(exc: BaseException) -> dict[str, Any]:
    """An exception as a log's error; an MCP error (a JSON-RPC error answer) keeps its code and data."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__}
    data = getattr(exc, "error", None)  # mcp's MCPError (2.x) and McpError (1.x) carry ErrorData
    if data is not None and hasattr(data, "code"):
        error["code"] = data.code
        if getattr(data, "data", None) is not None:
            error["data"] = data.data
    return error
