"""The time-partitioning plan for `run_steps` (docs/scaling.md), proven on a copy of the schema.

    BENCH_DB=ops_partition .venv/bin/python bench/partition.py     # a few minutes

It migrates a fresh database (today's schema), seeds `--runs` runs of `--steps` steps spread over
`--weeks` weeks (in SQL, on the server), and times the timeline's read (200 steps of a run from an
index) and the retention of the oldest two weeks by DELETE. Then it applies the prototype migration
(`MIGRATION` below: a new `run_steps` partitioned by week on `run_created_at`, filled from the old
table, swapped in by rename), times it, and times the same read (with and without the partition key
in the query) and the same retention by dropping partitions. Finally it drops the database (`--keep`
keeps it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import os

from _common import PG_SERVER, owner_project_key, setup_django

DATABASE = os.environ.get("BENCH_DB", "agentscope_partition")

SEED = """
INSERT INTO runs (id, project_id, agent_name, status, started_at, ended_at, created_at, step_count, error_count,
                  total_tokens, duration_ms, next_step_index, steps_awaiting_parent)
SELECT gen_random_uuid(), %(project)s, 'agent-' || (n %% 5), 'completed', t, t + interval '3 seconds', t,
       %(steps)s, 0, 0, 3000, %(steps)s, 0
FROM (SELECT n, now() - (n * interval '1 second') * (%(weeks)s * 7 * 86400.0 / %(runs)s) AS t
      FROM generate_series(1, %(runs)s) AS n) AS g;
INSERT INTO run_steps (id, run_id, step_index, step_type, name, input, output, metadata, tokens_used, latency_ms,
                       started_at, ended_at, created_at, status)
SELECT gen_random_uuid(), r.id, i, 'tool_call', 'search', jsonb_build_object('query', 'q' || i, 'context', repeat('c', 100)),
       jsonb_build_object('text', repeat('t', 100)), '{}'::jsonb, 120, 35, r.started_at, r.started_at, r.created_at,
       'completed'
FROM runs r CROSS JOIN generate_series(0, %(steps)s - 1) AS i;
"""

# The prototype migration. Partitioned tables need the partition key in every unique constraint, so
# steps carry their run's `created_at` (never changes, unlike `started_at`): (run_id, step_index,
# run_created_at) is as unique as (run_id, step_index), one run's steps share a partition. Foreign
# keys that point at run_steps (parent, breakpoint_hits.step) can't reference a partitioned table by
# `id` alone: the write path already checks parents, and breakpoint hits reference the step by value.
MIGRATION = """
CREATE TABLE run_steps_part (LIKE run_steps INCLUDING DEFAULTS, run_created_at timestamptz NOT NULL)
    PARTITION BY RANGE (run_created_at);
ALTER TABLE run_steps_part ADD PRIMARY KEY (id, run_created_at);
ALTER TABLE run_steps_part ADD CONSTRAINT run_steps_part_index_uniq UNIQUE (run_id, step_index, run_created_at);
{partitions}
INSERT INTO run_steps_part SELECT s.*, r.created_at FROM run_steps s JOIN runs r ON r.id = s.run_id;
CREATE INDEX run_steps_part_parent ON run_steps_part (parent_id);
CREATE INDEX run_steps_part_pending ON run_steps_part (run_id, parent_pending_id) WHERE parent_pending_id IS NOT NULL;
-- after the copy: one check of the whole table, no trigger per row
ALTER TABLE run_steps_part ADD CONSTRAINT run_steps_part_run_fk FOREIGN KEY (run_id) REFERENCES runs (id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE breakpoint_hits DROP CONSTRAINT IF EXISTS {hit_fk};
ALTER TABLE run_steps RENAME TO run_steps_unpartitioned;
ALTER TABLE run_steps_part RENAME TO run_steps;
ANALYZE run_steps;
"""


def weeks(first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    start = (first - timedelta(days=first.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    bounds = []
    while start <= last + timedelta(weeks=4):  # four weeks ahead: a daily job keeps creating the next ones
        bounds.append((start, start + timedelta(weeks=1)))
        start += timedelta(weeks=1)
    return bounds


def timed(cursor, sql: str, params=None) -> float:
    started = time.perf_counter()
    cursor.execute(sql, params)
    return time.perf_counter() - started


def timeline_ms(cursor, samples: list[tuple], *, with_key: bool) -> float:
    sql = "SELECT id, step_index, step_type, name, status FROM run_steps WHERE run_id = %s AND step_index >= %s"
    sql += " AND run_created_at = %s" if with_key else ""
    sql += " ORDER BY step_index LIMIT 200"
    times = []
    for run_id, created in samples:
        args = (run_id, 50, created) if with_key else (run_id, 50)
        started = time.perf_counter()
        cursor.execute(sql, args)
        cursor.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description="run_steps partitioned by week: migration, reads, retention.")
    parser.add_argument("--runs", type=int, default=5_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    setup_django(DATABASE, recreate=True)
    from django.db import connection

    _, project, _ = owner_project_key()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(SEED, {"project": project.pk, "runs": args.runs, "steps": args.steps, "weeks": args.weeks})
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('run_steps')), min(created_at), max(created_at) FROM runs"
        )
        size, first, last = cursor.fetchone()
        print(
            f"seeded {args.runs * args.steps:,} steps ({size}) over {args.weeks} weeks in {time.perf_counter() - started:.0f} s"
        )
        cursor.execute("SELECT id, created_at FROM runs ORDER BY random() LIMIT 200")
        samples = cursor.fetchall()
        cutoff = first + timedelta(weeks=2)
        cursor.execute(
            "SELECT count(*) FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.created_at < %s", [cutoff]
        )
        old_steps = cursor.fetchone()[0]

        before = timeline_ms(cursor, samples, with_key=False)
        print(f"timeline read, 200 steps (median of 200 runs): unpartitioned {before:.2f} ms")

        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'breakpoint_hits'::regclass AND contype = 'f' "
            "AND confrelid = 'run_steps'::regclass"
        )
        hit_fk = cursor.fetchone()[0]
        bounds = weeks(first, last)
        partitions = "\n".join(
            f"CREATE TABLE run_steps_{lo:%Y_%m_%d} PARTITION OF run_steps_part FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}');"
            for lo, hi in bounds
        )
        seconds = timed(cursor, MIGRATION.format(partitions=partitions, hit_fk=hit_fk))
        print(
            f"migration (new partitioned table, {len(bounds)} weekly partitions, copy, indexes, swap): {seconds:.1f} s "
            f"for {args.runs * args.steps:,} steps: {args.runs * args.steps / seconds:,.0f} steps/s"
        )

        with_key = timeline_ms(cursor, samples, with_key=True)
        without_key = timeline_ms(cursor, samples, with_key=False)
        print(
            f"timeline read, partitioned: {with_key:.2f} ms with run_created_at (one partition), "
            f"{without_key:.2f} ms without it ({len(bounds)} partitions probed)"
        )
        cursor.execute("EXPLAIN SELECT * FROM run_steps WHERE run_id = %s AND run_created_at = %s AND step_index >= 50 "
                       "ORDER BY step_index LIMIT 200", samples[0])  # fmt: skip
        scanned = sum("Index" in row[0] and "run_steps_" in row[0] for row in cursor.fetchall())
        print(f"    plan with the key scans {scanned} partition(s)")

        # Retention of the two oldest weeks: DELETE on the old table, DROP on the new.
        deleted = timed(
            cursor,
            "DELETE FROM run_steps_unpartitioned s USING runs r WHERE r.id = s.run_id AND r.created_at < %s",
            [cutoff],
        )
        print(
            f"retention by DELETE of {old_steps:,} steps (unpartitioned): {deleted:.1f} s (and VACUUM to reuse the space)"
        )
        olds = [f"run_steps_{lo:%Y_%m_%d}" for lo, hi in bounds if hi <= cutoff]
        dropped = sum(
            timed(cursor, f"ALTER TABLE run_steps DETACH PARTITION {name}; DROP TABLE {name}") for name in olds
        )
        print(f"retention by DROP of {len(olds)} weekly partitions: {dropped * 1000:.0f} ms")
        cursor.execute(
            "SELECT count(*) FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.created_at < %s", [cutoff]
        )
        left_behind = cursor.fetchone()[0]
        print(f"    steps of runs older than the cutoff left after the drop: {left_behind:,} (the partial week)")
    connection.close()
    if not args.keep:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
