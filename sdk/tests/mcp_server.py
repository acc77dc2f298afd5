"""A small MCP server for the tests, run over stdio: `python sdk/tests/mcp_server.py`.

Built with the official `mcp` package (FastMCP, named MCPServer since mcp 2). `MCP_TEST_ADD_DESCRIPTION`
changes a tool's description, as a server that changes a tool under its users would.
"""

import os

import anyio

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.shared.exceptions import MCPError
    from mcp.types import ToolAnnotations
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer
    from mcp.server.fastmcp.exceptions import ToolError
    from mcp.shared.exceptions import McpError
    from mcp.types import ErrorData, ToolAnnotations

    def MCPError(code, message):
        return McpError(ErrorData(code=code, message=message))


server = MCPServer("agentscope-test")


@server.tool(
    title="Add",
    description=os.environ.get("MCP_TEST_ADD_DESCRIPTION", "Add two integers."),
    annotations=ToolAnnotations(readOnlyHint=True),
)
def add(a: int, b: int) -> int:
    return a + b


@server.tool()
async def slow(seconds: float = 0.3) -> str:
    """Wait, then answer."""
    await anyio.sleep(seconds)
    return f"waited {seconds}s"


@server.tool()
def fail(reason: str = "the search index is down") -> str:
    """Always fails, as a tool whose backend is down."""
    raise ToolError(reason)


@server.tool()
def denied() -> str:
    """Answers with a JSON-RPC error instead of a result."""
    raise MCPError(-32001, "access denied")


@server.tool()
def crash(code: int = 3) -> str:
    """Kills the server without an answer."""
    os._exit(code)


if __name__ == "__main__":
    server.run()
