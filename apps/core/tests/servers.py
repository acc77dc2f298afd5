"""Real processes for tests that need more than the test client: the app under gunicorn, and a TCP proxy
in front of PostgreSQL that fails the way a database does. Never stop the shared PostgreSQL itself."""

import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(*, host: str | None = None, port: int | None = None) -> str:
    """The test database's URL (as pytest-django created it), optionally reached through a proxy."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{host or db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"


class TcpProxy:
    """Forwards TCP connections to `target`. `stop()` drops every connection and refuses new ones, as a
    database that went down; `start()` accepts again, as one that came back; `pause()` accepts but
    forwards nothing, as a database that hangs."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.paused = False
        self._pairs: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        self.paused = False
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port))
            self._listener.settimeout(0.1)
            self._acceptor = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
            self._acceptor.start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, set()
        if listener is not None:
            listener.close()
            self._acceptor.join()  # the port is only free once its accept() has returned
        for sock in pairs:
            _close(sock)

    def pause(self) -> None:
        self.paused = True

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            # Closed with a reset, not a FIN: the port is free again at once for start(), even while the
            # app's idle pooled connections have yet to notice.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._pairs |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.paused and sink in self._pairs:
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class AppServer:
    """The app under gunicorn, as the Dockerfile serves it (DEBUG off), on the test database."""

    def __init__(self, *, workers: int = 1, env: dict[str, str] | None = None, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "TASKS_BACKEND": "immediate",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        command = [sys.executable, "-m", "gunicorn", "agentscope.wsgi:application", "--workers", str(workers)]
        command += [
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "--no-control-socket",
        ]
        output = log.open("ab") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=output, stderr=output)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                httpx.get(f"{self.url}/health", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 30 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def terminate_backends() -> int:
    """pg_terminate_backend on every connection to the test database but this test's own, as a
    restart or failover would end them; waits until they are gone."""
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    others = "FROM pg_stat_activity WHERE datname = %s AND pid NOT IN (%s, pg_backend_pid())"
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as admin:
        ended = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {others}", [db["NAME"], own]).fetchone()[0]
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT count(*) {others}", [db["NAME"], own]).fetchone()[0]:
            if time.monotonic() > deadline:
                raise TimeoutError("backends still there 10 s after pg_terminate_backend")
            time.sleep(0.05)
    return ended
