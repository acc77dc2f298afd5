"""OTLP ingest throughput: the real OpenTelemetry SDK exporting GenAI spans to gunicorn on PostgreSQL.

    BENCH_DB=bench_otlp .venv/bin/python bench/otlp.py          # about a minute

It (re)creates the database, migrates it, makes a user, project and API key and starts gunicorn
(4 workers, as the Dockerfile runs it), as bench/ingest.py does. Then `--senders` client processes
(agents) each build traces of 10-50 GenAI-shaped spans (an `invoke_agent` root; `chat` spans with
input and output messages, model and token usage; `execute_tool` spans with arguments and results,
some with a nested retrieval) with a `TracerProvider` whose `BatchSpanProcessor` exports them through
the protobuf OTLP exporter (`opentelemetry-exporter-otlp-proto-http`) to `/v1/traces`. It prints:
  (a) spans per second from the first export until the last span is stored (every exporter has
      flushed, and the database holds every span as a step), with the CPU each side spent per span;
  (b) raw `COPY` of the same rows (those just stored, read back) into `run_steps` of another run, and
      the ratio (a) / COPY.
Finally it stops the server and drops the database (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import random
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_SERVER, owner_project_key, setup_django
from ingest import DATABASE, CpuMeter, cpu_line, free_port, start_server, stop_server

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4")
TOOLS = ("search_orders", "refund", "lookup_customer", "send_email")
STEP_COLUMNS = (
    "step_type, name, input, output, metadata, error, tokens_used, latency_ms, started_at, ended_at, created_at, status"
)


def chat_attributes(rng: random.Random, turn: int) -> dict:
    question = f"Customer {rng.randrange(10_000)} asks about order {rng.randrange(100_000)}: " + "details " * 30
    answer = "Here is what I found about the order and what happens next. " * 4
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": rng.choice(MODELS),
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "You are a support agent."}]),
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": question}]}] * min(turn + 1, 3)
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}]
        ),
        "gen_ai.usage.input_tokens": rng.randrange(200, 2000),
        "gen_ai.usage.output_tokens": rng.randrange(20, 400),
        "gen_ai.response.finish_reasons": ["stop"],
    }


def tool_attributes(rng: random.Random, name: str) -> dict:
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": f"call_{rng.randrange(10**9)}",
        "gen_ai.tool.call.arguments": json.dumps({"order_id": rng.randrange(100_000), "reason": "lookup " * 10}),
        "gen_ai.tool.call.result": json.dumps({"status": "shipped", "items": [f"item {i}" for i in range(8)]}),
    }


def build_trace(tracer, rng: random.Random, size: int) -> None:
    """One agent run of exactly `size` spans: the root, then chat / tool (/ retrieval) spans."""
    root_attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": f"agent-{rng.randrange(4)}"}
    with tracer.start_as_current_span("invoke_agent support", attributes=root_attributes):
        left, turn = size - 1, 0
        while left:
            with tracer.start_as_current_span("chat", attributes=chat_attributes(rng, turn)):
                pass
            left, turn = left - 1, turn + 1
            if left:
                name = rng.choice(TOOLS)
                with tracer.start_as_current_span(f"execute_tool {name}", attributes=tool_attributes(rng, name)):
                    left -= 1
                    if left and rng.random() < 0.3:
                        with tracer.start_as_current_span(
                            "retrieval", attributes={"gen_ai.operation.name": "retrieval"}
                        ):
                            left -= 1


def sender(number: int, url: str, key: str, spans: int, seed: int, started, done) -> None:
    """One agent process: builds traces of 10-50 spans until `spans`, exports, flushes."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

    class TimedExporter(OTLPSpanExporter):
        def export(self, batch):
            if not started.is_set():
                started.set()
                done.put(("first", time.time()))
            result = super().export(batch)
            if result is not SpanExportResult.SUCCESS:
                done.put(("failed", len(batch)))
            return result

    exporter = TimedExporter(endpoint=f"{url}/v1/traces", headers={"X-Agentscope-Key": key}, timeout=120)
    provider = TracerProvider(resource=Resource.create({"service.name": f"bench-agent-{number}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=spans + 100, schedule_delay_millis=200))
    tracer = provider.get_tracer("bench")
    rng = random.Random(seed)
    made = 0
    while made < spans:
        size = min(rng.randint(10, 50), spans - made)
        build_trace(tracer, rng, max(size, 1))
        made += max(size, 1)
    provider.shutdown()  # flushes: every export has been answered
    done.put(("flushed", made))


def run_senders(url: str, key: str, *, senders: int, spans: int) -> dict:
    context = multiprocessing.get_context("fork")
    started, done = context.Event(), context.Queue()
    per_sender = spans // senders
    processes = [
        context.Process(target=sender, args=(n, url, key, per_sender, 1000 + n, started, done)) for n in range(senders)
    ]
    for process in processes:
        process.start()
    first, made, failed = None, 0, 0
    flushed = 0
    while flushed < senders:
        kind, value = done.get(timeout=600)
        if kind == "first":
            first = value if first is None else min(first, value)
        elif kind == "failed":
            failed += value
        else:
            flushed, made = flushed + 1, made + value
    for process in processes:
        process.join()
    return {"first": first, "made": made, "failed": failed}


def agents_cpu() -> float:
    """CPU seconds of the agent processes that have ended (gunicorn, still running, isn't counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stored_steps() -> int:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{DATABASE}") as conn:
        return conn.execute("SELECT count(*) FROM run_steps").fetchone()[0]


def copy_same_rows() -> dict:
    """The stored steps read back, then COPied into `run_steps` of one new run: the database's floor."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{DATABASE}") as conn:
        run = conn.execute("SELECT id, project_id FROM runs LIMIT 1").fetchone()
        copy_run = uuid.uuid4()
        conn.execute(
            "INSERT INTO runs (id, project_id, agent_name, status, started_at, created_at, step_count, error_count,"
            " total_tokens) VALUES (%s, %s, 'copy', 'completed', now(), now(), 0, 0, 0)",
            [copy_run, run[1]],
        )
        with conn.cursor() as cursor, cursor.copy(f"COPY (SELECT {STEP_COLUMNS} FROM run_steps) TO STDOUT") as copy:
            rows = list(copy.rows())
        prepared = [(uuid.uuid4(), copy_run, index, *row) for index, row in enumerate(rows)]
        started = time.perf_counter()
        with conn.cursor() as cursor:
            columns = f"id, run_id, step_index, {STEP_COLUMNS}"
            with cursor.copy(f"COPY run_steps ({columns}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    return {"rows": len(prepared), "per_second": len(prepared) / elapsed, "seconds": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description="OTLP ingest throughput against gunicorn + PostgreSQL.")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--spans", type=int, default=20_000, help="spans in all (at least 20,000 for the target)")
    parser.add_argument("--senders", type=int, default=2, help="agent processes exporting at once")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    print(f"Preparing database {DATABASE} (create, migrate, user, project, key)…", flush=True)
    setup_django(DATABASE, recreate=True)
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    _, _, key = owner_project_key()
    from django.db import connections

    connections.close_all()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    print(f"gunicorn -w {args.workers} on {url}; 2 cores shared by server, PostgreSQL and clients\n", flush=True)
    try:
        meter, agents_before = CpuMeter(server).start(), agents_cpu()
        sent = run_senders(url, key, senders=args.senders, spans=args.spans)
        stored = stored_steps()
        finished = time.time()
        cpu = meter.stop()
        cpu["client"] += agents_cpu() - agents_before
        rate = stored / (finished - sent["first"])
        print(
            f"(a) OTLP, {args.senders} agent processes (BatchSpanProcessor + protobuf exporter): {rate:,.0f} spans/s"
            f"  ({stored:,} of {sent['made']:,} spans stored in {finished - sent['first']:.1f} s from the first export,"
            f" {sent['failed']} refused)"
        )
        print(cpu_line(cpu, stored, "span").replace("this client", "the agents"), flush=True)
        print(f"    spans per gunicorn CPU second: {stored / cpu['server']:,.0f}")
        copy = copy_same_rows()
        print(
            f"(b) COPY of the same rows into run_steps: {copy['per_second']:,.0f} rows/s  ({copy['rows']:,} rows in"
            f" {copy['seconds']:.2f} s)"
        )
        print(f"    OTLP / COPY: {rate / copy['per_second']:.2f}   target >= 0.20")
        print(f"    OTLP end to end: target >= 3,000 spans/s -> {'met' if rate >= 3000 else 'NOT met'}")
    finally:
        stop_server(server)
        if not args.keep:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
