"""`agentscope mcp-proxy --server-name NAME -- <server command...>`: record a stdio MCP server's
tools and calls without touching the client or the server.

Put it where the client starts the server (the `command` of an MCP client's config). It starts the
server and copies bytes both ways as soon as they arrive, unchanged: chunks are forwarded first and
looked at afterwards, on another thread, so recording never delays the traffic. From the
line-delimited JSON-RPC it sees, it registers the tools of every `tools/list` answer and logs every
`tools/call` request with its answer (matched by id), latency and JSON-RPC id, through the SDK's
background sender. A line that isn't JSON-RPC is forwarded as it is and reported on stderr; so is a
server that exits while the client is still connected, whose unanswered calls are logged as errors.
The proxy exits with the server's exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any, TextIO

from agentscope_sdk._ids import new_id
from agentscope_sdk.client import DEFAULT_BASE_URL, Client
from agentscope_sdk.mcp import iso, result_error, tool_body

CHUNK = 64 * 1024
MAX_REPORTED = 200  # characters of a malformed line shown on stderr


def report(message: str, stream: TextIO | None = None) -> None:
    print(f"agentscope mcp-proxy: {message}", file=stream or sys.stderr, flush=True)


class Recorder:
    """Turns the bytes seen in each direction into `mcp.tool` and `mcp.log` events.

    Only requests from the client and answers from the server are paired: a server's own requests
    (sampling, elicitation) and the client's answers to them have ids of their own."""

    def __init__(self, client: Any, server_name: str | None, *, stderr: TextIO | None = None):
        self.client = client
        self.server_name = server_name
        self.stderr = stderr
        self.buffers = {"client": bytearray(), "server": bytearray()}
        self.pending: dict[str, tuple[str, Any, Any, float, float]] = {}  # id -> (method, id, params, at, wall)
        self.malformed = 0
        self.calls = 0

    def feed(self, direction: str, chunk: bytes, at: float, wall: float) -> None:
        buffer = self.buffers[direction]
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            self.line(direction, line, at, wall)

    def line(self, direction: str, line: bytes, at: float, wall: float) -> None:
        if not line.strip():
            return
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        messages = message if isinstance(message, list) else [message]  # a JSON-RPC batch is a list
        for item in messages:
            if isinstance(item, dict) and item.get("jsonrpc") == "2.0":
                self.message(direction, item, at, wall)
            else:
                self.malformed += 1
                text = line.decode("utf-8", "replace")[:MAX_REPORTED]
                report(f"a line from the {direction} is not JSON-RPC (forwarded as it is): {text}", self.stderr)
                break

    def message(self, direction: str, message: dict, at: float, wall: float) -> None:
        method, has_id = message.get("method"), "id" in message
        if direction == "client" and method in ("tools/call", "tools/list") and has_id:
            key = json.dumps(message["id"])
            self.pending[key] = (method, message["id"], message.get("params"), at, wall)
        elif direction == "client" and method == "notifications/cancelled":
            params = message.get("params") if isinstance(message.get("params"), dict) else {}
            entry = self.pending.pop(json.dumps(params.get("requestId")), None)
            if entry is not None and entry[0] == "tools/call":
                reason = params.get("reason") or "cancelled by the client"
                self.log(entry, at, "error", error={"message": str(reason)})
        elif direction == "server" and method is None and has_id:
            entry = self.pending.pop(json.dumps(message["id"]), None)
            if entry is not None:
                self.answered(entry, message, at)

    def answered(self, entry: tuple, message: dict, at: float) -> None:
        result = message.get("result")
        if entry[0] == "tools/list":
            tools = result.get("tools") if isinstance(result, dict) else None
            for tool in tools if isinstance(tools, list) else []:
                if isinstance(tool, dict) and tool.get("name"):
                    self.emit("mcp.tool", tool_body(tool, self.server_name))
        elif "error" in message:
            self.log(entry, at, "error", error=message["error"])
        else:
            error = result_error(result) if isinstance(result, dict) else None
            self.log(entry, at, "response" if error is None else "error", response=result, error=error)

    def log(self, entry: tuple, at: float | None, log_type: str, *, response: Any = None, error: Any = None) -> None:
        _method, jsonrpc_id, params, started, wall = entry
        name = params.get("name") if isinstance(params, dict) else None
        body: dict[str, Any] = {
            "id": new_id(),
            "tool_name": str(name or "(unnamed)")[:255],
            "log_type": log_type,
            "request": params,
            "created_at": iso(wall),
        }
        if isinstance(jsonrpc_id, str | int) and not isinstance(jsonrpc_id, bool):
            body["jsonrpc_id"] = jsonrpc_id
        if at is not None:
            body["latency_ms"] = round((at - started) * 1000)
        if response is not None:
            body["response"] = response
        if error is not None:
            body["error"] = error
        self.calls += 1
        self.emit("mcp.log", body)

    def emit(self, event_type: str, body: dict) -> None:
        self.client.emit(event_type, {key: self.client.jsonable(value) for key, value in body.items()})

    def finish(self, *, server_exit: int | None) -> None:
        """Logs the calls that never got an answer: errors when the server died under them, else
        `call` (the client left first)."""
        for entry in list(self.pending.values()):
            if entry[0] != "tools/call":
                continue
            if server_exit is None:
                self.log(entry, None, "call")
            else:
                self.log(
                    entry, None, "error", error={"message": f"the server exited (code {server_exit}) before answering"}
                )
        self.pending.clear()


class Proxy:
    def __init__(self, command: list[str], recorder: Recorder, *, stdin: int = 0, stdout: int = 1):
        self.command, self.recorder = command, recorder
        self.stdin, self.stdout = stdin, stdout
        self.seen: queue.SimpleQueue = queue.SimpleQueue()
        self.client_gone = threading.Event()

    def run(self) -> int:
        try:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        except OSError as exc:
            report(f"could not start the server {self.command[0]!r}: {exc}", self.recorder.stderr)
            return 127
        self.process = process
        watcher = threading.Thread(target=self.watch, name="agentscope-mcp-recorder", daemon=True)
        watcher.start()
        threading.Thread(target=self.upstream, name="agentscope-mcp-upstream", daemon=True).start()
        try:
            _forwarding.set()
            # Ends when the server's output does (it exited), or when the client stops reading.
            told_to_go = not self.pump(process.stdout.fileno(), self.stdout, "server")
        except KeyboardInterrupt:  # SIGINT, or SIGTERM (see `_stop`)
            told_to_go = True
        finally:
            _forwarding.clear()
        if told_to_go:
            self.client_gone.set()
        code = self.stop_server(patience=0 if told_to_go else 3)
        if not self.client_gone.is_set():
            report(f"the server exited with code {code} while the client was connected", self.recorder.stderr)
        self.seen.put(None)
        watcher.join(timeout=5)
        self.recorder.finish(server_exit=None if self.client_gone.is_set() else code)
        return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it

    def stop_server(self, *, patience: float) -> int:
        """The server's exit code, once it has exited: on its own within `patience` seconds, else
        terminated, else killed."""
        process = self.process
        for stop, timeout in ((None, patience), (process.terminate, 3), (process.kill, None)):
            try:
                if stop is not None:
                    stop()
                return process.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                continue
        return process.wait()

    def upstream(self) -> None:
        if self.pump(self.stdin, self.process.stdin.fileno(), "client"):  # else the server is gone
            self.client_gone.set()
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # the server sees the end of its input and exits

    def pump(self, source: int, target: int, direction: str) -> bool:
        """Copies `source` to `target` chunk by chunk, forwarding first and recording after.
        True when `source` ended, False when `target` stopped taking bytes."""
        while True:
            try:
                chunk = os.read(source, CHUNK)
            except OSError:
                return True
            if not chunk:
                return True
            at, wall = time.monotonic(), time.time()
            try:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(target, view) :]
            except OSError:
                side = "client" if direction == "server" else "server"
                report(f"the {side} stopped reading", self.recorder.stderr)
                return False
            self.seen.put((direction, chunk, at, wall))

    def watch(self) -> None:
        while (item := self.seen.get()) is not None:
            try:
                self.recorder.feed(*item)
            except Exception as exc:  # recording must never take the proxy down
                report(f"could not record a message: {exc!r}", self.recorder.stderr)


def add_parser(commands: Any) -> None:
    """The `mcp-proxy` subcommand of the `agentscope` command line."""
    parser = commands.add_parser(
        "mcp-proxy",
        help="record a stdio MCP server's tools and calls",
        description="Start the server command and sit between it and the MCP client, recording every tool and call.",
        usage="agentscope mcp-proxy --server-name NAME [options] -- <server command...>",
    )
    parser.add_argument("--server-name", required=True, help="the name the server's tools are shown under")
    parser.add_argument("--base-url", default=os.environ.get("AGENTSCOPE_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--api-key", default=os.environ.get("AGENTSCOPE_API_KEY"))
    parser.add_argument(
        "--flush-timeout", type=float, default=1.5, help="seconds to send what is left at exit (default 1.5)"
    )
    parser.add_argument("server_command", nargs=argparse.REMAINDER, help="the server command, after --")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    command = args.server_command[1:] if args.server_command[:1] == ["--"] else args.server_command
    if not command:
        report("no server command: agentscope mcp-proxy --server-name NAME -- <server command...>")
        return 2
    client = Client(args.api_key, args.base_url)
    recorder = Recorder(client, args.server_name)
    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return Proxy(command, recorder).run()
    finally:
        client.close(timeout=args.flush_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_forwarding = threading.Event()


def _stop(signum: int, frame: Any) -> None:
    # MCP clients signal the whole process group, so the server is told too. While forwarding, leave
    # it through the shutdown (stop the server, send what was recorded); once shutting down, go on.
    if _forwarding.is_set():
        raise KeyboardInterrupt
