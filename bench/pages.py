"""Seed a project with many runs (default 1,000,000) and one run of 10,000 steps on PostgreSQL,
then print the server time (p50/p95 over N requests, in-process, no network) of the pages and
API endpoints that must stay fast as data grows.

    .venv/bin/python bench/pages.py                 # seed once (kept between runs), then measure
    .venv/bin/python bench/pages.py --runs 100000   # a smaller seed
    .venv/bin/python bench/pages.py --reseed        # drop the database and seed again
"""

from __future__ import annotations

import argparse
import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from _common import Timer, owner_project_key, percentiles, setup_django

AGENTS = ["support-bot", "research-assistant", "sql-agent", "triage", "summarizer", "coder", "planner", "scraper"]
STEP_TYPES = ["llm_call", "tool_call", "retrieval", "custom"]
# (model, USD per million tokens, blended input/output, weight): what the seeded LLM calls cost.
MODELS = [
    ("gpt-4o-mini", 0.40, 30),
    ("gpt-4o", 6.00, 15),
    ("claude-sonnet-4", 8.00, 15),
    ("claude-haiku-3.5", 2.00, 15),
    ("gemini-2.0-flash", 0.25, 10),
    ("o3-mini", 2.50, 8),
    ("llama-3.1-70b", 0.80, 5),
    ("mistral-large", 3.00, 2),
]
UNPRICED = 0.08  # share of runs whose one LLM call has no price (a model with none): cost null


def seed_runs(project, count: int, *, days: int = 60) -> None:
    """COPY `count` runs spread over the last `days` days into `runs`, each with one LLM call step
    in `run_steps` that names a model and (unless unpriced) carries the run's whole cost, as the write
    path would keep them: `Run.cost_usd` is the sum of its steps' costs, null when none is priced."""
    from django.db import connection

    rng = random.Random(7)
    now = datetime.now(UTC)
    batch = 100_000
    cols = (
        "id, project_id, external_id, agent_name, status, input, output, metadata, error, started_at, ended_at,"
        " created_at, step_count, error_count, total_tokens, duration_ms, cost_usd, unpriced_steps, next_step_index"
    )
    step_cols = (
        "id, run_id, step_index, step_type, name, input, output, metadata, error, tokens_used, latency_ms,"
        " started_at, ended_at, created_at, status, model, cost_usd"
    )
    names, prices, weights = zip(*MODELS, strict=True)
    with connection.cursor() as cursor:
        raw = cursor.connection
        for start in range(0, count, batch):
            buf, steps = io.StringIO(), io.StringIO()
            for i in range(start, min(count, start + batch)):
                run_id = uuid.uuid4()
                started = now - timedelta(seconds=rng.random() * days * 86400)
                failed = rng.random() < 0.12
                duration = rng.randint(200, 40_000)
                status = "failed" if failed else "completed"
                error = json.dumps({"message": "tool failed"}) if failed else "\\N"
                tokens = rng.randint(100, 20_000)
                model = rng.choices(range(len(MODELS)), weights)[0]
                unpriced = rng.random() < UNPRICED
                cost = "\\N" if unpriced else f"{tokens * prices[model] / 1_000_000:.10f}"
                buf.write(
                    f"{run_id}\t{project.id}\text-{i}\t{rng.choice(AGENTS)}\t{status}\t"
                    f'{{"question": "q{i}"}}\t{{"answer": "a{i}"}}\t{{}}\t{error}\t{started.isoformat()}\t'
                    f"{(started + timedelta(milliseconds=duration)).isoformat()}\t{started.isoformat()}\t"
                    f"{rng.randint(1, 40)}\t{int(failed)}\t{tokens}\t{duration}\t{cost}\t{int(unpriced)}\t1\n"
                )
                ended = started + timedelta(milliseconds=duration // 2)
                steps.write(
                    f"{uuid.uuid4()}\t{run_id}\t0\tllm_call\tchat\t\\N\t\\N\t{{}}\t\\N\t{tokens}\t"
                    f"{duration // 2}\t{started.isoformat()}\t{ended.isoformat()}\t{started.isoformat()}\t"
                    f"completed\t{names[model]}\t{cost}\n"
                )
            with raw.cursor() as pg, pg.copy(f"COPY runs ({cols}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
            with raw.cursor() as pg, pg.copy(f"COPY run_steps ({step_cols}) FROM STDIN") as copy:
                copy.write(steps.getvalue())
            print(f"  seeded {min(count, start + batch):,} runs (and their LLM call steps)", flush=True)
        cursor.execute("ANALYZE runs")
        cursor.execute("ANALYZE run_steps")


def seed_long_run(project, steps: int = 10_000):
    """One running-then-completed run with `steps` nested steps; returns it."""
    from django.db import connection

    from apps.runs.models import Run

    started = datetime.now(UTC) - timedelta(minutes=30)
    run = Run.objects.create(
        project=project,
        agent_name="long-run",
        external_id=f"long-{uuid.uuid4()}",
        status="completed",
        input={"task": "long"},
        started_at=started,
        ended_at=started + timedelta(seconds=steps),
        step_count=steps,
        total_tokens=steps * 50,
        duration_ms=steps * 1000,
    )
    buf = io.StringIO()
    parent = None
    for i in range(steps):
        sid = uuid.uuid4()
        depth_parent = parent if i % 5 else None
        if i % 5 == 0:
            parent = sid
        at = started + timedelta(seconds=i)
        payload = json.dumps({"messages": [{"role": "user", "content": f"step {i} " + "x" * 200}]})
        buf.write(
            f'{sid}\t{run.id}\t{i}\t{STEP_TYPES[i % 4]}\tstep-{i}\t{payload}\t{{"ok": true}}\t{{}}\t\\N\t50\t900\t'
            f"{at.isoformat()}\t{(at + timedelta(milliseconds=900)).isoformat()}\t{at.isoformat()}\t"
            f"{depth_parent or '\\N'}\tcompleted\n"
        )
    cols = (
        "id, run_id, step_index, step_type, name, input, output, metadata, error, tokens_used, latency_ms,"
        " started_at, ended_at, created_at, parent_id, status"
    )
    with connection.cursor() as cursor:
        with cursor.connection.cursor() as pg, pg.copy(f"COPY run_steps ({cols}) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        cursor.execute("ANALYZE run_steps")
    return run


def measure(client, url: str, repeat: int, headers: dict | None = None) -> str:
    client.get(url, headers=headers)  # warm caches and connections
    samples, status = [], None
    for _ in range(repeat):
        with Timer() as t:
            response = client.get(url, headers=headers)
        status = response.status_code
        samples.append(t.ms)
    p50, p95 = percentiles(samples)
    return f"{p50:8.1f} {p95:8.1f}   {status}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--database", default="agentscope_pages")
    parser.add_argument("--only", default="", help="measure only the lines whose label contains this")
    args = parser.parse_args()

    setup_django(args.database, recreate=args.reseed)
    from django.conf import settings
    from django.test import Client

    # Production settings but no collectstatic here: serve static URLs unhashed (pages render the same).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    from apps.runs.models import Run

    user, project, _ = owner_project_key()
    if not Run.objects.filter(project=project).exclude(agent_name="long-run").exists():
        print(f"seeding {args.runs:,} runs (COPY) ...", flush=True)
        seed_runs(project, args.runs)
    long_run = Run.objects.filter(project=project, agent_name="long-run").first() or seed_long_run(project)
    total = Run.objects.filter(project=project).count()
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    first = client.get(f"/api/runs/?project_id={project.id}&page_size=50")
    deep_cursor = first.json().get("next") if first.status_code == 200 else None
    for _ in range(20 if deep_cursor else 0):  # walk 20 pages deep by cursor
        deep_cursor = client.get(deep_cursor).json().get("next") or deep_cursor

    htmx = {"HX-Request": "true"}
    page = f"/runs?project={project.id}"
    deep_page = f"{page}&cursor={parse_qs(urlparse(deep_cursor).query)['cursor'][0]}" if deep_cursor else "(no cursor)"
    run_page = f"/runs/{long_run.id}"
    urls = {
        "runs page, first page": (page, None),
        "runs page, 20 pages deep (cursor)": (deep_page, None),
        "runs page, filtered (status+agent)": (f"{page}&status=failed&agent_name=sql-agent", None),
        "runs page, filtered (agent+dates)": (
            f"{page}&agent_name=triage&started_after={(datetime.now(UTC) - timedelta(days=30)).date()}"
            f"&started_before={(datetime.now(UTC) - timedelta(days=20)).date()}",
            None,
        ),
        "runs page, search (external id)": (f"{page}&q=ext-99999", None),
        "runs page, search (agent name)": (f"{page}&q=triage", None),
        "runs partial (htmx), filtered": (
            f"{page}&status=failed&agent_name=coder",
            {**htmx, "HX-Target": "runs-results"},
        ),
        "runs API, first page": (f"/api/runs/?project_id={project.id}", None),
        "runs API, 20 pages deep (cursor)": (deep_cursor or "(no cursor)", None),
        "runs API, filtered": (f"/api/runs/?project_id={project.id}&status=failed&agent_name=triage", None),
        "runs page, cost_min=0.05": (f"{page}&cost_min=0.05", None),
        "runs page, cost_min=0.15 (rare)": (f"{page}&cost_min=0.15", None),
        "runs API, cost_min=0.05": (f"/api/runs/?project_id={project.id}&cost_min=0.05", None),
        "run detail ?step=5000 (10k steps)": (f"{run_page}?step=5000", None),
        "inspector partial, step 5000": (f"{run_page}?step=5000", {**htmx, "HX-Target": "inspector"}),
        "timeline partial, after 5000": (f"{run_page}/timeline?after=5000", {**htmx, "HX-Target": "tl-after"}),
        "timeline partial, filtered (type+name)": (
            f"{run_page}?type=tool_call&q=step-99",
            {**htmx, "HX-Target": "timeline"},
        ),
        "run API (first 1,000 steps)": (f"/api/runs/{long_run.id}", None),
        "steps API, after 5000": (f"/api/runs/{long_run.id}/steps?after=5000", None),
        "timeline API, after 5000": (f"/api/runs/{long_run.id}/timeline?after=5000", None),
        "dashboard (7d)": (f"/dashboard?project={project.id}", None),
        "dashboard, 24h": (f"/dashboard?project={project.id}&period=24h", None),
        "dashboard, 30d": (f"/dashboard?project={project.id}&period=30d", None),
        "dashboard partial (htmx), 30d": (
            f"/dashboard?project={project.id}&period=30d",
            {**htmx, "HX-Target": "dashboard-body"},
        ),
        "stats API (7d)": (f"/api/projects/{project.id}/stats", None),
        "stats API, 30d": (f"/api/projects/{project.id}/stats?period=30d", None),
    }
    urls = {label: target for label, target in urls.items() if args.only in label}
    print(f"\n{total:,} runs in the project; {args.repeat} requests each; server time in ms (in-process)")
    print(f"{'what':40} {'p50':>8} {'p95':>8}   status")
    for label, (url, headers) in urls.items():
        if url.startswith("("):
            print(f"{label:40} {'-':>8} {'-':>8}   {url}")
            continue
        print(f"{label:40} {measure(client, url, args.repeat, headers)}", flush=True)
    if "dashboard" in args.only or not args.only:
        from apps.runs.models import AgentDay, RollupDay

        RollupDay.objects.filter(project=project).delete()
        AgentDay.objects.filter(project=project).delete()
        with Timer() as t:
            client.get(f"/dashboard?project={project.id}&period=30d")
        print(f"{'dashboard, 30d, rolling up 60 days (once)':40} {t.ms:8.1f}", flush=True)


if __name__ == "__main__":
    main()
