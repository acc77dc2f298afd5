"""Fixtures for SDK tests: clients aimed at the real server (pytest-django's live_server), a free
port where nothing listens yet, and a fault-injecting proxy in front of the real server."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from agentscope_sdk import Client


@pytest.fixture
def make_client(live_server, api_key):
    """Builds SDK clients aimed at the live server with alice's key; closes them after the test."""
    clients = []

    def make(**options) -> Client:
        options.setdefault("api_key", api_key[1])
        options.setdefault("base_url", live_server.url)
        options.setdefault("flush_interval", 0.05)
        client = Client(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=5)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultyProxy:
    """Answers the first `fail` POSTs (all of them when `fail` is None), or every POST after the
    first `fail_after`, with `status` and `headers`, and forwards the others, and every GET, to the
    real server. Records when each POST came."""

    def __init__(
        self,
        target: str,
        *,
        fail: int | None = 0,
        status: int = 500,
        headers: dict | None = None,
        fail_after: int | None = None,
    ):
        self.target, self.fail, self.status, self.headers = target, fail, status, headers or {}
        self.fail_after = fail_after
        self.times: list[float] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.times.append(time.monotonic())
                    count = len(proxy.times)
                    failing = proxy.fail is None or count <= proxy.fail
                    failing = failing or (proxy.fail_after is not None and count > proxy.fail_after)
                if failing:
                    status, headers, content = proxy.status, proxy.headers, b'{"detail": "injected"}'
                else:
                    status, headers, content = self.forward(body)
                proxy.answers.append(status)
                self.answer(status, headers, content)

            def do_GET(self):
                self.answer(*self.forward(None))

            def forward(self, body: bytes | None) -> tuple[int, dict, bytes]:
                forwarded = httpx.request(
                    self.command,
                    proxy.target + self.path,
                    content=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")},
                    timeout=30,
                )
                return forwarded.status_code, {}, forwarded.content

            def answer(self, status: int, headers: dict, content: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty_proxy(live_server):
    proxies = []

    def make(**options) -> FaultyProxy:
        proxy = FaultyProxy(live_server.url, **options)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()
