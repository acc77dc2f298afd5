"""Retention's cost to ingest: `manage.py prune_runs` deleting 1,000,000 steps while agents post.

    BENCH_DB=ops_bench .venv/bin/python bench/prune.py     # a few minutes

It (re)creates the database, seeds a project keeping 30 days with `--runs` runs of `--steps` steps each
(~300 bytes of JSON a step) that started 40-100 days ago (in SQL, on the server), starts gunicorn (4
workers) as bench/ingest.py does, and measures ingest into another project: single-step posts from 16
clients and 500-step batches from one sender, first without the prune, then while `prune_runs` runs
in its own process, in alternate windows with the prune running and stopped (SIGSTOP: the machine's
other load weighs on both alike), then after it. It prints throughput and latency of each phase and how
long the prune took. Finally it stops the server and drops the database (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_SERVER, ROOT, owner_project_key, setup_django
from ingest import DATABASE, batch_posts, free_port, single_posts, start_server, stop_server, wait_until_idle

SEED_RUNS = """
INSERT INTO runs (id, project_id, agent_name, status, started_at, ended_at, created_at, step_count, error_count,
                  total_tokens, duration_ms, next_step_index, steps_awaiting_parent)
SELECT gen_random_uuid(), %(project)s, 'agent-' || (n %% 5), CASE WHEN n %% 10 = 0 THEN 'failed' ELSE 'completed' END,
       now() - interval '40 days' - (n * interval '1 minute') * (60.0 * 24 * 60 / %(runs)s),
       now() - interval '40 days' - (n * interval '1 minute') * (60.0 * 24 * 60 / %(runs)s) + interval '3 seconds',
       now() - interval '40 days', %(steps)s, 0, 0, 3000, %(steps)s, 0
FROM generate_series(1, %(runs)s) AS n
"""
SEED_STEPS = """
INSERT INTO run_steps (id, run_id, step_index, step_type, name, input, output, metadata, tokens_used, latency_ms,
                       started_at, ended_at, created_at, status)
SELECT gen_random_uuid(), r.id, i, 'tool_call', 'search',
       jsonb_build_object('query', 'query ' || i, 'context', repeat('c', 100)),
       jsonb_build_object('hits', jsonb_build_array('a', 'b', 'c'), 'text', repeat('t', 100)),
       '{"source": "bench"}'::jsonb, 120, 35, r.started_at, r.started_at, r.started_at, 'completed'
FROM runs r CROSS JOIN generate_series(0, %(steps)s - 1) AS i
WHERE r.project_id = %(project)s
"""


def seed(*, runs: int, steps: int):
    """A second project of the bench's owner, keeping 30 days, full of runs older than that."""
    from django.db import connection

    from apps.projects.services import project_create

    user, _, _ = owner_project_key()
    old = project_create(user=user, name="Old", retention_days=30)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SEED_RUNS, {"project": old.pk, "runs": runs, "steps": steps})
        cursor.execute(SEED_STEPS, {"project": old.pk, "steps": steps})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE runs")
        cursor.execute("VACUUM ANALYZE run_steps")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('run_steps'))")
        size = cursor.fetchone()[0]
    print(f"Seeded {runs:,} runs of {steps} steps ({runs * steps:,} steps, run_steps {size}) in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip


def measure(url: str, key: str, label: str, *, seconds: float, batches: int) -> None:
    single = single_posts(url, key, clients=16, seconds=seconds)
    batch, _ = batch_posts(url, key, senders=1, batches=batches, size=500)
    print(
        f"{label:<22} single posts {single['per_second']:6,.0f}/s  p50 {single['p50']:6.1f} ms  p95 {single['p95']:7.1f} ms"
        f"  ({single['failed']} failed)   batch {batch['per_second']:6,.0f} steps/s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Ingest throughput with and without prune_runs running.")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100, help="steps per run")
    parser.add_argument("--seconds", type=float, default=15, help="single-post window of each measurement")
    parser.add_argument("--batches", type=int, default=6, help="500-step batches of each measurement")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    print(f"Preparing database {DATABASE}…", flush=True)
    setup_django(DATABASE, recreate=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _, _, key = owner_project_key()
    seed(runs=args.runs, steps=args.steps)
    from django.db import connections

    connections.close_all()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, 4)
    try:
        wait_until_idle(server)
        single_posts(url, key, clients=16, seconds=2)  # warm-up
        measure(url, key, "without prune", seconds=args.seconds, batches=args.batches)
        env = {**os.environ, "DATABASE_URL": f"{PG_SERVER}/{DATABASE}", "DEBUG": "0", "SECRET_KEY": "bench"}
        command = [sys.executable, "manage.py", "prune_runs", "--no-progress"]
        started = time.perf_counter()
        prune = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        # Alternate in the same minutes, so that the machine's other load weighs on both sides alike:
        # a window with the prune running, then one with it stopped (SIGSTOP between two chunks' statements).
        rounds, stopped = 0, 0.0
        while prune.poll() is None:
            rounds += 1
            measure(url, key, f"during prune ({rounds})", seconds=args.seconds, batches=args.batches)
            if prune.poll() is not None:
                break
            prune.send_signal(signal.SIGSTOP)
            pause = time.perf_counter()
            measure(url, key, f"prune stopped ({rounds})", seconds=args.seconds, batches=args.batches)
            prune.send_signal(signal.SIGCONT)
            stopped += time.perf_counter() - pause
        elapsed = time.perf_counter() - started - stopped
        print(f"prune_runs: {prune.stdout.read().strip()}")
        steps = args.runs * args.steps
        print(f"prune_runs ran {elapsed:.0f} s (not counting its stops): {steps / elapsed:,.0f} steps/s", flush=True)
        measure(url, key, "after prune", seconds=args.seconds, batches=args.batches)
    finally:
        stop_server(server)
        if not args.keep:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
