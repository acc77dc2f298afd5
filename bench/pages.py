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
from corpus import ERRORS, MODELS, TOOLS, Corpus

AGENTS = ["support-bot", "research-assistant", "sql-agent", "triage", "summarizer", "coder", "planner", "scraper"]
STEP_TYPES = ["llm_call", "tool_call", "retrieval", "custom"]


def seed_runs(project, count: int, *, steps: int = 0, days: int = 60) -> None:
    """COPY `count` runs spread over the last `days` days into `runs`, with `steps` steps among them
    of varied multilingual text (bench/corpus.py), their search columns made by the write path's own
    functions; 30% of runs belong to sessions, and one session holds 5,000 runs."""
    from django.db import connection

    rng, corpus = random.Random(7), Corpus()
    now = datetime.now(UTC)
    batch = 20_000
    per_run = steps / count if count else 0
    cols = (
        "id, project_id, external_id, agent_name, status, input, output, metadata, error, started_at, ended_at,"
        " created_at, step_count, error_count, total_tokens, duration_ms, session_id, user_id, search"
    )
    step_cols = (
        "id, run_id, step_index, step_type, name, input, output, metadata, error, tokens_used, latency_ms,"
        " started_at, ended_at, created_at, status, search"
    )
    made = 0
    with connection.cursor() as cursor:
        raw = cursor.connection
        for start in range(0, count, batch):
            runs_buf, steps_buf = io.StringIO(), io.StringIO()
            for i in range(start, min(count, start + batch)):
                made += _seed_one(runs_buf, steps_buf, project, i, rng, corpus, now, days, per_run)
            with raw.cursor() as pg:
                with pg.copy(f"COPY runs ({cols}) FROM STDIN") as copy:
                    copy.write(runs_buf.getvalue())
                with pg.copy(f"COPY run_steps ({step_cols}) FROM STDIN") as copy:
                    copy.write(steps_buf.getvalue())
            print(f"  seeded {min(count, start + batch):,} runs, {made:,} steps", flush=True)
        cursor.execute("ANALYZE runs")
        cursor.execute("ANALYZE run_steps")


def _json(value) -> str:
    """A JSON value as COPY's text format wants it."""
    return "\\N" if value is None else _copy_text(json.dumps(value, ensure_ascii=False))


def _copy_text(text: str | None) -> str:
    """A text value as COPY's text format wants it."""
    if text is None:
        return "\\N"
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


RARE_WORD = "zanzibarite"  # written once, in one step of one run three weeks ago
LONG_SESSION = "long-session-5000"


def _seed_one(runs_buf, steps_buf, project, i, rng, corpus, now, days, per_run) -> int:
    from apps.runs.search import document, tsvector_literal

    run_id = uuid.uuid4()
    started = now - timedelta(days=21) if i == 0 else now - timedelta(seconds=rng.random() * days * 86400)
    failed = rng.random() < 0.12
    duration = rng.randint(200, 40_000)
    agent = rng.choice(AGENTS)
    session = user = None
    if i < 5000:  # one long conversation
        session, user, started = LONG_SESSION, "u-long", now - timedelta(days=2, seconds=-i * 30)
    elif rng.random() < 0.3:
        session = f"s-{rng.randint(0, 40_000)}"
        user = f"u-{hash(session) % 10_000}"
    n_steps = int(rng.random() * 2 * per_run + 0.5) if per_run else 0
    tokens = errors = 0
    error = {"type": "ToolError", "message": rng.choice(ERRORS)} if failed else None
    question, answer = {"question": corpus.sentence()}, {"answer": corpus.text((1, 2))}
    for index in range(n_steps):
        kind = STEP_TYPES[index % 4]
        name, metadata, step_error, used = kind, {}, None, None
        if kind == "llm_call":
            name, used = "chat", rng.randint(50, 3000)
            metadata = {"model": rng.choice(MODELS), "prompt_tokens": used // 2}
            body_in = {"messages": [{"role": "user", "content": corpus.text((1, 3))}]}
            body_out = {"choices": [{"message": {"role": "assistant", "content": corpus.text((1, 4))}}]}
        elif kind == "tool_call":
            name = rng.choice(TOOLS)
            body_in, body_out = {"query": corpus.sentence(2, 6)}, {"result": corpus.text((1, 3))}
        else:
            body_in, body_out = {"text": corpus.sentence()}, corpus.text((1, 2))
        if i == 0 and index == 0:
            body_out = {"result": f"The mineral {RARE_WORD} was found in the sample. " + corpus.sentence()}
        if failed and index == n_steps - 1:
            step_error, body_out = error, None
            errors += 1
        tokens += used or 0
        at = started + timedelta(milliseconds=index * 200)
        search = document([name, body_in, body_out, step_error])
        steps_buf.write(
            "\t".join(
                [
                    str(uuid.uuid4()),
                    str(run_id),
                    str(index),
                    kind,
                    name,
                    _json(body_in),
                    _json(body_out),
                    _json(metadata),
                    _json(step_error),
                    _copy_text(used and str(used)),
                    "200",
                    at.isoformat(),
                    (at + timedelta(milliseconds=200)).isoformat(),
                    at.isoformat(),
                    "failed" if step_error else "completed",
                    _copy_text(search and tsvector_literal(search)),
                ]
            )
            + "\n"
        )
    search = document([f"ext-{i}", agent, question, answer, error])
    runs_buf.write(
        "\t".join(
            [
                str(run_id),
                str(project.id),
                f"ext-{i}",
                agent,
                "failed" if failed else "completed",
                _json(question),
                _json(None if failed else answer),
                _json(
                    {"env": rng.choice(["prod", "prod", "staging", "dev"]), "region": rng.choice(["eu", "us", "ap"])}
                ),
                _json(error),
                started.isoformat(),
                (started + timedelta(milliseconds=duration)).isoformat(),
                started.isoformat(),
                str(n_steps),
                str(errors),
                str(tokens or rng.randint(100, 20_000)),
                str(duration),
                _copy_text(session),
                _copy_text(user),
                _copy_text(search and tsvector_literal(search)),
            ]
        )
        + "\n"
    )
    return n_steps


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


def search_urls(page: str, api: str) -> dict:
    """Issue 17's lines: search, each filter alone and three together, sessions."""
    from urllib.parse import quote

    lines = {
        "search, rare word": f"q={RARE_WORD}",
        "search, common word (first page)": "q=the",
        "search, common word, Chinese": f"q={quote('订单')}",
        "search, prefix": "q=refu*",
        "search, phrase": f"q={quote(chr(34) + 'refund please' + chr(34))}",
        "filter: failed steps": "has_error=true",
        "filter: tool": "tool=issue_refund",
        "filter: model": "model=claude-3-haiku",
        "filter: metadata key=value": "metadata=env%3Dstaging",
        "filter: session": "session_id=s-123",
        "filter: user": "user_id=u-42",
        "filter: latency range": "latency_min=39000&latency_max=39500",
        "filter: tokens range": "tokens_min=19900",
        "filters: tool + model + failed steps": "tool=web_search&model=gpt-4o&has_error=true",
        "filters: search + agent + metadata": "q=refund&agent_name=triage&metadata=env%3Dprod",
    }
    urls = {}
    for label, query in lines.items():
        urls[f"{label} (page)"] = (f"{page}&{query}", None)
        urls[f"{label} (API)"] = (f"{api}&{query}", None)
    urls["sessions page"] = ("/sessions", None)
    urls["sessions API"] = ("/api/sessions", None)
    urls["session page, 5,000 runs"] = (f"/sessions/{LONG_SESSION}", None)
    urls["session API, 5,000 runs"] = (f"/api/sessions/{LONG_SESSION}", None)
    return urls


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
    parser.add_argument("--steps", type=int, default=10_000_000, help="steps of text among the runs (search)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--database", default="agentscope_pages")
    parser.add_argument("--only", default="", help="measure only the lines whose label contains this (a,b: either)")
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
        print(f"seeding {args.runs:,} runs and {args.steps:,} steps (COPY) ...", flush=True)
        seed_runs(project, args.runs, steps=args.steps)
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
        **search_urls(page, f"/api/runs/?project_id={project.id}"),
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
    wanted = args.only.split(",")
    urls = {label: target for label, target in urls.items() if any(part in label for part in wanted)}
    print(f"\n{total:,} runs in the project; {args.repeat} requests each; server time in ms (in-process)")
    print(f"{'what':40} {'p50':>8} {'p95':>8}   status")
    for label, (url, headers) in urls.items():
        if url.startswith("("):
            print(f"{label:40} {'-':>8} {'-':>8}   {url}")
            continue
        print(f"{label:40} {measure(client, url, args.repeat, headers)}", flush=True)
    if "dashboard" in wanted or not args.only:
        from apps.runs.models import AgentDay, RollupDay

        RollupDay.objects.filter(project=project).delete()
        AgentDay.objects.filter(project=project).delete()
        with Timer() as t:
            client.get(f"/dashboard?project={project.id}&period=30d")
        print(f"{'dashboard, 30d, rolling up 60 days (once)':40} {t.ms:8.1f}", flush=True)


if __name__ == "__main__":
    main()
