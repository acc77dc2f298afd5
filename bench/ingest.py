"""Ingest throughput against a real server: gunicorn (4 workers) on PostgreSQL, over loopback.

    .venv/bin/python bench/ingest.py            # about a minute; `make bench-ingest`

It (re)creates the database `agentscope_bench`, migrates it, makes a user, project and API key,
starts gunicorn, waits for its workers to have booted and warms them up (`--warmup` seconds of
single posts, not measured: a worker's start-up and first requests are not what a post costs), then
prints:
  (a) single-step posts per second (`POST /api/ingest/run/{id}/step`) from 16 concurrent clients,
      each its own agent run, with p50/p95 latency;
  (b) batch steps per second (`POST /api/ingest/batch`, ~1 KB of JSON per step, 500 per batch), from
      one sender (as the SDK sends) and from 4 concurrent senders;
  (c) raw `COPY` of the same rows (with their full-text search words, which the GIN index takes
      either way) into `run_steps` of the same run, and the ratio batch / COPY.
Finally it stops the server and drops the database (`--keep` keeps it).

`--profile` samples the gunicorn workers with py-spy (`pip install py-spy`) during (a) and prints
the functions that hold the most samples, by own time and by time including callees.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_SERVER, ROOT, owner_project_key, percentiles, setup_django

DATABASE = os.environ.get("BENCH_DB", "agentscope_bench")  # a name of its own per checkout running benches
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "INGEST_THROTTLE_RATE": "1000000/min",
    "LOG_LEVEL": "WARNING",
}
COPY_COLUMNS = (
    "id, run_id, step_index, step_type, name, input, output, metadata, tokens_used, latency_ms,"
    " started_at, ended_at, created_at, status, search"
)


LLM_STEPS = os.environ.get("BENCH_STEPS") == "llm"


def step_body(number: int) -> dict:
    """A completed tool step carrying about 1 KB of JSON; with BENCH_STEPS=llm, an LLM call with its
    model, provider and usage (as the SDK sends them), which the server prices unless COST_ON_WRITE=0."""
    if LLM_STEPS:
        models = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-20250514", "gemini-2.5-flash")
        usage = {"input_tokens": 900 + number % 97, "cache_read_tokens": 256, "output_tokens": 120 + number % 13}
        return {
            "step_type": "llm_call",
            "name": "chat",
            "input": {"messages": [{"role": "user", "content": f"question {number} " + "c" * 400}]},
            "output": {"role": "assistant", "content": "t" * 380},
            "metadata": {
                "model": models[number % 4],
                "provider": ("openai", "openai", "anthropic", "google")[number % 4],
                "usage": usage,
            },
            "tokens_used": usage["input_tokens"] + usage["output_tokens"],
            "latency_ms": 35,
        }
    return {
        "step_type": "tool_call",
        "name": "search",
        "input": {"query": f"query number {number}", "filters": {"lang": "en", "k": 5}, "context": "c" * 430},
        "output": {"hits": [f"document {number}-{i}" for i in range(5)], "text": "t" * 380},
        "metadata": {"source": "bench", "shard": number % 8},
        "tokens_used": 120,
        "latency_ms": 35,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": f"{PG_SERVER}/{DATABASE}"}
    command = [str(ROOT / ".venv/bin/gunicorn"), "agentscope.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "agentscope-bench-gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /health within 30 s")


def wait_until_idle(server: subprocess.Popen, timeout: float = 60) -> None:
    """Waits for every worker to have booted (gunicorn's CPU still for half a second), so their
    start-up is not counted as the first posts' cost."""
    meter, deadline = CpuMeter(server), time.monotonic() + timeout
    while time.monotonic() < deadline:
        meter.start()
        time.sleep(0.5)
        if meter.stop()["server"] < 0.05:
            return


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


class CpuMeter:
    """CPU seconds spent by the gunicorn processes, the bench database's PostgreSQL backends and this
    client between `start()` and `stop()`, read from /proc (Linux): where the time goes."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server: subprocess.Popen):
        self.server = server

    def start(self) -> CpuMeter:
        self.wall, self.before = time.perf_counter(), self.sample()
        return self

    def stop(self) -> dict[str, float]:
        wall, after = time.perf_counter() - self.wall, self.sample()
        spent = {group: sum(t - self.before[group].get(pid, 0.0) for pid, t in after[group].items()) for group in after}
        return {"wall": wall, **spent}

    def sample(self) -> dict[str, dict[int, float]]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        workers = [self.server.pid, *self.children(self.server.pid)]
        return {
            "server": self.times(workers),
            "postgres": self.times(self.backends()),
            "client": {os.getpid(): usage.ru_utime + usage.ru_stime},
        }

    def times(self, pids) -> dict[int, float]:
        found = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / self.TICK
        return found

    @staticmethod
    def children(parent: int) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(stat.parent.name))
            except (OSError, ValueError):
                continue
        return found

    @staticmethod
    def backends() -> list[int]:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DATABASE]).fetchall()
        return [pid for (pid,) in rows]


def cpu_line(cpu: dict[str, float], count: int, unit: str) -> str:
    per = {group: cpu[group] / count * 1000 for group in ("server", "postgres", "client")}
    return (
        f"    CPU over {cpu['wall']:.1f} s wall: gunicorn {cpu['server']:.1f} s, PostgreSQL {cpu['postgres']:.1f} s,"
        f" this client {cpu['client']:.1f} s -> per {unit}: gunicorn {per['server']:.2f} ms,"
        f" PostgreSQL {per['postgres']:.2f} ms, client {per['client']:.2f} ms"
    )


class Profiler:
    """py-spy sampling every gunicorn process while it holds the GIL (running Python, not waiting on
    the database or the network): where a worker's CPU goes."""

    def __init__(self, server: subprocess.Popen):
        self.output = Path(os.environ.get("TMPDIR", "/tmp")) / "agentscope-bench-profile.txt"
        spy = Path(sys.executable).parent / "py-spy"
        command = [str(spy), "record", "--pid", str(server.pid), "--subprocesses", "--format", "raw",
                   "--rate", "250", "--nonblocking", "--gil", "--output", str(self.output)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def report(self, top: int = 25) -> str:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)
        own, total, samples = {}, {}, 0
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [frame for frame in stack.split(";")[1:] if frame]  # the first is the process
            if not frames or not count.isdigit():
                continue
            names = [_frame_name(frame) for frame in frames]
            if not any(name.startswith("WSGIHandler.__call__") for name in names):
                continue  # the worker's loop between requests
            count = int(count)
            samples += count
            own[names[-1]] = own.get(names[-1], 0) + count
            for name in set(names):
                total[name] = total.get(name, 0) + count
        lines = [f"    profile: {samples:,} samples inside requests"]
        for title, table in (("own time", own), ("including callees", total)):
            lines.append(f"    top by {title} (% of samples):")
            ranked = sorted(table.items(), key=lambda item: -item[1])
            lines.extend(f"      {100 * count / max(samples, 1):5.1f}%  {name}" for name, count in ranked[:top])
        return "\n".join(lines)


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:line)` -> `function (module.py)`, lines merged."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/apps/", "/agentscope/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def new_run(http: httpx.Client, name: str) -> str:
    response = http.post("/api/ingest/run", json={"id": str(uuid.uuid4()), "agent_name": name})
    response.raise_for_status()
    return response.json()["id"]


def single_posts(url: str, key: str, *, clients: int, seconds: float) -> dict:
    """`clients` threads, each posting steps to its own run for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        with httpx.Client(base_url=url, headers={"X-Agentscope-Key": key}, timeout=30) as http:
            run_id = new_run(http, f"single-{number}")
            body = json.dumps(step_body(number)).encode()
            headers = {"Content-Type": "application/json"}
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                response = http.post(f"/api/ingest/run/{run_id}/step", content=body, headers=headers)
                latencies[number].append((time.perf_counter() - started) * 1000)
                failures[number] += response.status_code != 201

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = [ms for per_client in latencies for ms in per_client]
    p50, p95 = percentiles(samples)
    return {
        "posts": len(samples),
        "per_second": len(samples) / elapsed,
        "p50": p50,
        "p95": p95,
        "failed": sum(failures),
    }


def batch_bodies(run_id: str, *, batches: int, size: int, create_run: bool) -> list[bytes]:
    bodies = []
    for b in range(batches):
        events = [{"type": "step.create", "body": {"run_id": run_id, **step_body(b * size + i)}} for i in range(size)]
        if create_run and b == 0:
            events.insert(0, {"type": "run.create", "body": {"id": run_id, "agent_name": "batch-bench"}})
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


def send_batches(url: str, key: str, bodies: list[bytes]) -> int:
    headers = {"X-Agentscope-Key": key, "Content-Type": "application/json"}
    created = 0
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        for body in bodies:
            response = http.post("/api/ingest/batch", content=body)
            response.raise_for_status()
            created += sum(1 for result in response.json()["results"] if result["status"] == 201)
    return created


def batch_posts(url: str, key: str, *, senders: int, batches: int, size: int) -> tuple[dict, str]:
    """`senders` threads, each sending `batches` batches of `size` steps into its own new run."""
    run_ids = [str(uuid.uuid4()) for _ in range(senders)]
    work = [batch_bodies(run_id, batches=batches, size=size, create_run=True) for run_id in run_ids]
    created = [0] * senders

    def sender(number: int) -> None:
        created[number] = send_batches(url, key, work[number])

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    steps = sum(created) - senders  # the run.create of each sender is not a step
    mib = sum(len(body) for bodies in work for body in bodies) / 2**20
    return {"steps": steps, "per_second": steps / elapsed, "seconds": elapsed, "mib": mib}, run_ids[0]


def copy_rows(run_id: str, *, rows: int) -> dict:
    """COPY `rows` steps like those of the batch into `run_steps` of `run_id`, after its last step."""
    import psycopg

    from apps.runs.search import document, tsvector_literal

    now = datetime.now(UTC)
    with psycopg.connect(f"{PG_SERVER}/{DATABASE}") as conn:
        first = conn.execute(
            "SELECT coalesce(max(step_index), -1) + 1 FROM run_steps WHERE run_id = %s", [run_id]
        ).fetchone()[0]
        prepared = []
        for n in range(rows):
            body = step_body(n)
            prepared.append(
                (uuid.uuid4(), run_id, first + n, body["step_type"], body["name"], json.dumps(body["input"]),
                 json.dumps(body["output"]), json.dumps(body["metadata"]), body["tokens_used"], body["latency_ms"],
                 now, now, now, "completed",  # and the search words the write path stores (GIN-indexed)
                 tsvector_literal(document([body["name"], body["input"], body["output"], None])))
            )  # fmt: skip
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY run_steps ({COPY_COLUMNS}) FROM STDIN") as copy:
            for row in prepared:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    return {"rows": rows, "per_second": rows / elapsed, "seconds": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description="Ingest throughput against gunicorn + PostgreSQL.")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16, help="concurrent single-step clients")
    parser.add_argument("--seconds", type=float, default=15, help="duration of the single-step test")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of single posts before measuring")
    parser.add_argument("--batches", type=int, default=20, help="batches sent by the single sender")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy during (a)")
    args = parser.parse_args()

    print(f"Preparing database {DATABASE} (create, migrate, user, project, key)…", flush=True)
    setup_django(DATABASE, recreate=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _, _, key = owner_project_key()
    from django.db import connections

    connections.close_all()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    print(f"gunicorn -w {args.workers} on {url}; 2 cores shared by server, PostgreSQL and clients\n", flush=True)
    meter = CpuMeter(server)
    try:
        wait_until_idle(server)
        single_posts(url, key, clients=args.clients, seconds=args.warmup)
        profiler = Profiler(server) if args.profile else None
        meter.start()
        single = single_posts(url, key, clients=args.clients, seconds=args.seconds)
        single_cpu = meter.stop()
        cpu = single_cpu
        print(
            f"(a) single-step posts, {args.clients} clients, {args.seconds:.0f} s: {single['per_second']:,.0f} posts/s"
            f"  p50 {single['p50']:.1f} ms  p95 {single['p95']:.1f} ms  ({single['posts']:,} posts, {single['failed']} failed)"
        )
        print(cpu_line(cpu, single["posts"], "post"), flush=True)
        if profiler is not None:
            print(profiler.report(), flush=True)
        meter.start()
        one, run_id = batch_posts(url, key, senders=1, batches=args.batches, size=args.batch_size)
        cpu = meter.stop()
        print(
            f"(b) batch, 1 sender: {one['per_second']:,.0f} steps/s  ({one['steps']:,} steps in {one['seconds']:.1f} s,"
            f" {args.batch_size}/batch, {one['mib']:.1f} MiB of JSON)"
        )
        print(cpu_line(cpu, one["steps"] // args.batch_size, "batch"), flush=True)
        per_sender = max(1, args.batches // 4)
        four, _ = batch_posts(url, key, senders=4, batches=per_sender, size=args.batch_size)
        print(
            f"    batch, 4 senders: {four['per_second']:,.0f} steps/s  ({four['steps']:,} steps in {four['seconds']:.1f} s)"
        )
        copy = copy_rows(run_id, rows=one["steps"])
        print(
            f"(c) COPY into run_steps: {copy['per_second']:,.0f} rows/s  ({copy['rows']:,} rows in {copy['seconds']:.2f} s)"
        )
        ratio = one["per_second"] / copy["per_second"]
        print(
            f"    batch / COPY: {ratio:.2f} (1 sender), {four['per_second'] / copy['per_second']:.2f} (4 senders)"
            f"   target >= 0.25 from 1 sender -> {'met' if ratio >= 0.25 else 'NOT met'}"
        )
        per_post = single_cpu["server"] / single["posts"] * 1000
        print(f"    gunicorn CPU per single post: target <= 2.5 ms -> {'met' if per_post <= 2.5 else 'NOT met'}")
    finally:
        stop_server(server)
        if not args.keep:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
