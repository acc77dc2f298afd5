"""Replay mode against the real server, on the demo agent (examples/research_agent.py).

The "LLM" (`completion`), the corpus search (`INDEX.search`) and the calculator's `evaluate` are
wrapped to count their calls, so each test sees what a replay executed and what it didn't.
"""

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import agentscope_sdk
from agentscope_sdk.replay import ReplayError
from apps.runs.compare import runs_compare
from apps.runs.models import Run, RunStatus
from apps.runs.replay import run_replay_create

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "research_agent.py"
LARGEST = "Which planet is the largest in the Solar System?"


@pytest.fixture
def demo(live_server, api_key, monkeypatch):
    spec = importlib.util.spec_from_file_location("research_agent", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_agent"] = module
    spec.loader.exec_module(module)
    module.calls = Counter()
    module.queries = []
    client = agentscope_sdk.configure(api_key[1], live_server.url, flush_interval=0.05)
    for name in ("completion", "evaluate"):
        monkeypatch.setattr(module, name, counted(module, name, getattr(module, name)))
    search = module.INDEX.search

    def counted_search(query, k):
        module.calls["search"] += 1
        module.queries.append(query)
        return search(query, k)

    monkeypatch.setattr(module.INDEX, "search", counted_search)
    module.client = client
    yield module
    client.close()
    del sys.modules["research_agent"]


def counted(module, name, fn):
    def wrapper(*args, **kwargs):
        module.calls[name] += 1
        return fn(*args, **kwargs)

    return wrapper


def record(demo, agent, question) -> Run:
    agent(question)
    assert demo.client.flush(timeout=10)
    demo.calls.clear()
    demo.queries.clear()
    return Run.objects.get(input={"question": question}, replay_of__isnull=True)


def steps_of(run) -> list[tuple]:
    return list(run.steps.order_by("step_index").values_list("step_index", "step_type", "name"))


def test_recorded_steps_are_not_executed(demo):
    original = record(demo, demo.research, LARGEST)
    assert [name for _, _, name in steps_of(original)] == [
        "plan", "search_corpus", "read_document", "read_document", "answer", "cite",
    ]  # fmt: skip
    replay = run_replay_create(run=original, from_step=4)

    result = demo.client.replay(str(replay.pk), agent=demo.research)

    assert (result.status, result.replayed, result.live, result.diverged_at) == ("completed", 2, 2, None)
    assert demo.calls == Counter(completion=1)  # the answer ran; the plan and the search did not
    replay.refresh_from_db()
    assert replay.status == RunStatus.COMPLETED and replay.output == original.output
    assert steps_of(replay) == steps_of(original)  # no copy duplicated, the live steps after them
    diff = runs_compare(a=original, b=replay)
    assert diff["counts"] == {"identical": 6, "changed": 0, "added": 0, "removed": 0}


def test_an_edited_step_input_reaches_the_tool(demo):
    original = record(demo, demo.research, LARGEST)
    replay = run_replay_create(run=original, from_step=1, step_input={"query": "rings saturn ice", "k": 1})

    result = demo.client.replay(str(replay.pk), agent=demo.research)

    assert result.status == "completed" and result.replayed == 1
    assert demo.queries == ["rings saturn ice"]
    assert demo.calls["completion"] == 1  # the plan was not paid for again
    replay.refresh_from_db()
    assert replay.steps.get(step_index=1).input == {"query": "rings saturn ice", "k": 1}
    assert "Saturn" in replay.output and "Jupiter" in original.output
    kinds = {row["a"]["name"]: row["kind"] for row in runs_compare(a=original, b=replay)["steps"] if row["a"]}
    assert kinds["plan"] == "identical" and kinds["search_corpus"] == "changed"


def test_a_step_output_is_returned_without_executing(demo):
    original = record(demo, demo.research, LARGEST)
    made_up = [
        {"id": "atlas", "title": "Atlas", "text": "The largest planet is Atlas, in the Solar System.", "score": 1}
    ]
    replay = run_replay_create(run=original, from_step=1, step_output=made_up)

    result = demo.client.replay(str(replay.pk), agent=demo.research)

    assert result.status == "completed"
    assert demo.calls["search"] == 0
    replay.refresh_from_db()
    assert replay.steps.get(step_index=1).output == made_up
    assert replay.output.startswith("The largest planet is Atlas")


def test_a_recorded_error_is_raised_again(demo):
    original = record(demo, demo.tutor, "What is 10 / 0?")
    assert steps_of(original)[1][2] == "calculator"
    replay = run_replay_create(run=original, from_step=2)

    result = demo.client.replay(str(replay.pk), agent=demo.tutor)

    assert result.status == "completed" and result.replayed == 2
    assert demo.calls["evaluate"] == 0  # the calculator didn't run: its ZeroDivisionError came from the record
    replay.refresh_from_db()
    assert replay.output == original.output and "cannot compute" in replay.output


def test_a_fork_inside_a_step_runs_its_parent_live(demo):
    original = record(demo, demo.research, LARGEST)
    replay = run_replay_create(run=original, from_step=3, step_input={"doc_id": "saturn"})

    result = demo.client.replay(str(replay.pk), agent=demo.research)

    assert result.status == "completed" and result.diverged_at is None
    assert demo.calls["search"] == 1 and demo.calls["completion"] == 1
    replay.refresh_from_db()
    assert steps_of(replay) == steps_of(original)
    fork = replay.steps.get(step_index=3)
    parent = replay.steps.get(step_index=1)
    assert fork.output["title"].startswith("Saturn") and fork.parent_id == parent.pk
    assert [source["id"] for source in parent.output][1] == "saturn"  # the copy holds what it returned live


def test_divergence_is_reported_and_runs_live(demo, caplog):
    original = record(demo, demo.research, LARGEST)
    replay = run_replay_create(run=original, from_step=4)

    def other_agent(question):  # plans as recorded, then reads a document where the recording searched
        demo.plan(question)
        return demo.read_document("mars")["title"]

    result = demo.client.replay(str(replay.pk), agent=other_agent)

    assert result.diverged_at == 1 and result.status == "completed"
    assert "replaying live from here" in caplog.text
    assert demo.calls["completion"] == 0  # the plan still came from the record
    replay.refresh_from_db()
    assert replay.metadata["replay"]["diverged_at"] == 1
    assert replay.metadata["replay"]["from_step"] == 4  # merged, not replaced
    assert steps_of(replay)[-1] == (4, "tool_call", "read_document")


def test_a_replay_runs_once(demo):
    original = record(demo, demo.research, LARGEST)
    replay = run_replay_create(run=original, from_step=4)
    demo.client.replay(str(replay.pk), agent=demo.research)
    with pytest.raises(ReplayError, match="already picked up"):
        demo.client.replay(str(replay.pk), agent=demo.research)


def test_the_command_replays(demo, live_server, api_key):
    original = record(demo, demo.research, LARGEST)
    replay = run_replay_create(run=original, from_step=4)
    command = [sys.executable, "-m", "agentscope_sdk.cli", "replay", str(replay.pk)]
    done = subprocess.run(
        [*command, "--agent", "examples.research_agent:research", "--base-url", live_server.url],
        env={**os.environ, "AGENTSCOPE_API_KEY": api_key[1]},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Replayed 2 recorded step(s) without executing them; ran 2 live." in done.stdout
    replay.refresh_from_db()
    assert replay.status == RunStatus.COMPLETED
    assert replay.metadata["agent_entrypoint"] == "examples.research_agent:research"
    again = subprocess.run(
        [*command, "--agent", "examples.research_agent:research", "--base-url", live_server.url],
        env={**os.environ, "AGENTSCOPE_API_KEY": api_key[1]},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "already picked up" in again.stderr
