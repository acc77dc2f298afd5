"""`agentscope mcp-proxy` between a real MCP client and the real test server (both over stdio),
recording into the real AgentScope server."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from agentscope_sdk.cli import main
from agentscope_sdk.mcp_proxy import Recorder
from apps.mcp.models import McpLog, McpTool

mcp = pytest.importorskip("mcp")

pytestmark = pytest.mark.django_db(transaction=True)

SERVER = [sys.executable, str(Path(__file__).with_name("mcp_server.py"))]


def run_async(main):
    """Runs `main` on an event loop in a thread of its own: the test's thread may have one running
    already (Playwright's sync API, once the browser tests have started it)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


def proxy_command(live_server, api_key, *server) -> list[str]:
    return [
        sys.executable, "-m", "agentscope_sdk.cli", "mcp-proxy", "--server-name", "calc",
        "--base-url", live_server.url, "--api-key", api_key[1], "--", *(server or SERVER),
    ]  # fmt: skip


def wait_for(count, timeout: float = 30.0):
    """Polls until `count()` is truthy: the proxy records in the background."""
    deadline = time.monotonic() + timeout
    while not (value := count()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


class Pipe:
    """A process on stdin/stdout, its answers read line by line on a thread (with a timeout)."""

    def __init__(self, command: list[str]):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue = queue.Queue()
        self.received = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def send(self, line: bytes, answers: int = 0) -> list[bytes]:
        self.process.stdin.write(line)
        self.process.stdin.flush()
        got = [self.lines.get(timeout=15) for _ in range(answers)]
        self.received += b"".join(got)
        return got

    def close(self) -> tuple[int, str]:
        self.process.stdin.close()
        code = self.process.wait(timeout=15)
        return code, self.process.stderr.read().decode()


def request(id, method, params=None) -> bytes:
    message = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode() + b"\n"


CONVERSATION = [
    (request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}), 1),
    (b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n', 0),
    (request(2, "tools/list"), 1),
    (b"this line is not JSON\n", 0),
    (request("three", "tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}}), 1),
    (request(4, "tools/call", {"name": "fail", "arguments": {}}), 1),
    (request(5, "tools/call", {"name": "slow", "arguments": {"seconds": 0.2}}), 1),
    (request(6, "tools/call", {"name": "denied", "arguments": {}}), 1),
    (request(7, "tools/call", {"name": "add", "arguments": {"a": "x", "b": 1}}), 1),
]  # fmt: skip


def converse(command: list[str]) -> tuple[bytes, int, str]:
    pipe = Pipe(command)
    for line, answers in CONVERSATION:
        pipe.send(line, answers)
    code, stderr = pipe.close()
    return pipe.received, code, stderr


def test_the_client_receives_the_same_bytes_through_the_proxy(live_server, api_key):
    direct, _, _ = converse(SERVER)
    proxied, code, stderr = converse(proxy_command(live_server, api_key))
    assert proxied == direct
    assert direct.count(b"\n") == 7 and b'"id":"three"' in direct
    assert code == 0
    assert "a line from the client is not JSON-RPC (forwarded as it is): this line is not JSON" in stderr

    # Every call after the malformed line is recorded too, paired with its answer by id.
    logs = wait_for(lambda: McpLog.objects.count() == 5 and list(McpLog.objects.select_related("tool")))
    by_id = {log.jsonrpc_id: log for log in logs}
    assert set(by_id) == {"three", 4, 5, 6, 7}
    assert (by_id["three"].tool.tool_name, by_id["three"].log_type, by_id["three"].response["structuredContent"]) == (
        "add",
        "response",
        {"result": 42},
    )
    assert by_id["three"].request == {"name": "add", "arguments": {"a": 2, "b": 40}}
    assert (by_id[4].log_type, by_id[4].error) == (
        "error",
        {"message": "Error executing tool fail: the search index is down"},
    )
    assert 200 <= by_id[5].latency_ms < 10_000
    assert (by_id[6].log_type, by_id[6].error) == ("error", {"code": -32001, "message": "access denied"})
    assert by_id[7].log_type == "error" and {e["path"] for e in by_id[7].schema_errors} == {"a"}
    tools = wait_for(lambda: McpTool.objects.filter(version=1).count() == 5 and McpTool.objects.all())
    assert {tool.server_name for tool in tools} == {"calc"}


def test_a_real_client_through_the_proxy_is_recorded_with_the_right_pairs(live_server, api_key):
    command = proxy_command(live_server, api_key)

    async def client():
        params = mcp.StdioServerParameters(command=command[0], args=command[1:])
        results = {}
        with open(os.devnull, "w") as quiet:
            async with (
                mcp.stdio_client(params, errlog=quiet) as (read, write),
                mcp.ClientSession(read, write) as session,
            ):
                await session.initialize()
                tools = await session.list_tools()

                async def call(key, name, arguments):
                    results[key] = await session.call_tool(name, arguments)

                # In flight together: the slow call is answered last, so pairs are made by id.
                async with anyio.create_task_group() as group:
                    group.start_soon(call, "slow", "slow", {"seconds": 0.5})
                    for n in range(3):
                        group.start_soon(call, n, "add", {"a": n, "b": 100})
                results["fail"] = await session.call_tool("fail", {})
        return tools, results

    tools, results = run_async(client)
    assert [tool.name for tool in tools.tools] == ["add", "slow", "fail", "denied", "crash"]
    assert [results[n].structured_content for n in range(3)] == [{"result": 100}, {"result": 101}, {"result": 102}]

    logs = wait_for(lambda: McpLog.objects.count() == 5 and list(McpLog.objects.select_related("tool")))
    assert logs, "the proxy did not record the five calls"
    (slow,) = [log for log in logs if log.tool.tool_name == "slow"]
    for log in logs:
        assert log.request["name"] == log.tool.tool_name
        assert isinstance(log.jsonrpc_id, int)
        if log.tool.tool_name == "add":
            arguments = log.request["arguments"]
            assert log.response["structuredContent"] == {"result": arguments["a"] + arguments["b"]}
            assert log.latency_ms < slow.latency_ms
        elif log.tool.tool_name == "slow":
            assert 500 <= log.latency_ms < 10_000
            assert log.response["structuredContent"] == {"result": "waited 0.5s"}
        else:
            assert (log.log_type, log.error["message"]) == (
                "error",
                "Error executing tool fail: the search index is down",
            )
    assert len({log.jsonrpc_id for log in logs}) == 5
    add = McpTool.objects.get(tool_name="add")
    assert (add.server_name, add.title, add.annotations, add.version) == ("calc", "Add", {"readOnlyHint": True}, 1)


def test_it_survives_a_server_crash_and_reports_it(live_server, api_key):
    pipe = Pipe(proxy_command(live_server, api_key))
    pipe.send(CONVERSATION[0][0], 1)
    pipe.send(CONVERSATION[1][0])
    pipe.send(request(2, "tools/call", {"name": "crash", "arguments": {"code": 3}}))
    assert pipe.lines.get(timeout=15) == b""  # the client sees the end of the stream
    assert pipe.process.wait(timeout=15) == 3  # the server's exit code
    stderr = pipe.process.stderr.read().decode()
    assert "the server exited with code 3 while the client was connected" in stderr
    assert "Traceback" not in stderr

    log = wait_for(lambda: McpLog.objects.first())
    assert (log.tool.tool_name, log.log_type, log.jsonrpc_id, log.latency_ms) == ("crash", "error", 2, None)
    assert log.error == {"message": "the server exited (code 3) before answering"}


def test_a_call_cut_short_by_a_leaving_client_is_recorded(live_server, api_key):
    pipe = Pipe(proxy_command(live_server, api_key))
    pipe.send(CONVERSATION[0][0], 1)
    pipe.send(CONVERSATION[1][0])
    pipe.send(request(2, "tools/call", {"name": "slow", "arguments": {"seconds": 30}}))
    code, stderr = pipe.close()
    assert (code, "exited" in stderr) == (0, False)
    log = wait_for(lambda: McpLog.objects.first())
    # The server cancels the call as its input ends, and says so: -32000 "Connection closed".
    assert (log.tool.tool_name, log.log_type, log.error["message"]) == ("slow", "error", "Connection closed")
    assert log.latency_ms < 10_000


def test_calls_never_answered_are_logged_as_calls_or_as_errors_when_the_server_died(make_client):
    """The proxy's recorder on its own, fed what a client sent, with a real SDK client."""
    client = make_client()
    left, died = Recorder(client, "calc"), Recorder(client, "calc")
    left.feed("client", request(1, "tools/call", {"name": "slow", "arguments": {}}), 1.0, time.time())
    died.feed("client", request(1, "tools/call", {"name": "add", "arguments": {}}), 1.0, time.time())
    died.feed("client", request(2, "tools/list"), 1.0, time.time())
    left.finish(server_exit=None)
    died.finish(server_exit=-9)
    assert client.flush(timeout=10)
    logs = {log.tool.tool_name: log for log in McpLog.objects.select_related("tool")}
    assert (logs["slow"].log_type, logs["slow"].error, logs["slow"].latency_ms) == ("call", None, None)
    assert (logs["add"].log_type, logs["add"].error) == (
        "error",
        {"message": "the server exited (code -9) before answering"},
    )


def test_a_server_that_cannot_start_is_reported(capsys):
    argv = ["mcp-proxy", "--server-name", "x", "--api-key", "as_x", "--base-url", "http://127.0.0.1:9"]
    assert main([*argv, "--", "/nonexistent/mcp-server"]) == 127
    assert "could not start the server '/nonexistent/mcp-server'" in capsys.readouterr().err
    assert main(argv) == 2
