"""Two servers offering a tool of the same name stay two tools: calls through `instrument` (server
"calc") and through the proxy (server "proxied") each keep their server, with the real SDK, the
official `mcp` client and server, and the real AgentScope server."""

import os
import sys

import pytest

from agentscope_sdk.mcp import instrument
from apps.mcp.models import McpLog, McpTool

mcp = pytest.importorskip("mcp")

from sdk.tests.test_mcp_instrument import SERVER, run_async  # noqa: E402
from sdk.tests.test_mcp_proxy import wait_for  # noqa: E402


async def call_add(params, times: int, *, server_name=None, client=None):
    with open(os.devnull, "w") as quiet:
        async with mcp.stdio_client(params, errlog=quiet) as (read, write), mcp.ClientSession(read, write) as session:
            if server_name:
                instrument(session, server_name=server_name, client=client)
            await session.initialize()
            await session.list_tools()
            if client is not None:
                with client.run("mcp-agent", input="add numbers"):
                    for n in range(times):
                        await session.call_tool("add", {"a": n, "b": 1})
            else:
                for n in range(times):
                    await session.call_tool("add", {"a": n, "b": 1})


def test_two_servers_offering_add_stay_two_tools(make_client, live_server, api_key):
    client = make_client()
    direct = mcp.StdioServerParameters(command=sys.executable, args=[SERVER])
    run_async(lambda: call_add(direct, 4, server_name="calc", client=client))
    client.flush()
    proxy = [
        "-m", "agentscope_sdk.cli", "mcp-proxy", "--server-name", "proxied",
        "--base-url", live_server.url, "--api-key", api_key[1], "--", sys.executable, SERVER,
    ]  # fmt: skip
    run_async(lambda: call_add(mcp.StdioServerParameters(command=sys.executable, args=proxy), 2))
    assert wait_for(lambda: McpLog.objects.count() == 6), "the calls were not all recorded"

    tools = {tool.server_name: tool for tool in McpTool.objects.filter(tool_name="add")}
    assert set(tools) == {"calc", "proxied"}
    assert tools["calc"].logs.count() == 4 and tools["proxied"].logs.count() == 2
    assert set(McpLog.objects.filter(tool=tools["calc"]).values_list("server_name", flat=True)) == {"calc"}
    assert set(McpLog.objects.filter(tool=tools["proxied"]).values_list("server_name", flat=True)) == {"proxied"}
    assert tools["calc"].version == tools["proxied"].version == 1  # each server's definition, on its own row
