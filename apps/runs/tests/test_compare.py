"""The diff of two runs: GET /api/runs/{a}/compare/{b} and the alignment under it."""

import pytest

from apps.runs.compare import align, json_diff
from apps.runs.replay import run_replay_create
from apps.runs.services import step_create

pytestmark = pytest.mark.django_db


def test_json_diff_names_each_change():
    a = {"q": "mars", "k": 2, "tags": ["a", "b"], "gone": 1}
    b = {"q": "venus", "k": 2, "tags": ["a"], "new": True}
    assert json_diff(a, b) == [
        {"path": "$.q", "op": "changed", "a": "mars", "b": "venus"},
        {"path": "$.tags[1]", "op": "removed", "a": "b", "b": None},
        {"path": "$.gone", "op": "removed", "a": 1, "b": None},
        {"path": "$.new", "op": "added", "a": None, "b": True},
    ]
    assert json_diff({"x": [1, {"y": 2}]}, {"x": [1, {"y": 2}]}) == []
    assert json_diff(1, 1.0) == [{"path": "$", "op": "changed", "a": 1, "b": 1.0}]


def step(kind, name, input=None, output=None, error=None):
    return {"id": name, "step_index": 0, "step_type": kind, "name": name, "status": "completed", "tokens_used": None,
            "latency_ms": None, "input": input, "output": output, "error": error}  # fmt: skip


def test_align_marks_identical_changed_added_and_removed():
    a = [step("llm_call", "plan", output=1), step("tool_call", "search", {"q": "mars"}), step("llm_call", "answer")]
    b = [step("llm_call", "plan", output=1), step("tool_call", "search", {"q": "venus"}), step("tool_call", "read"),
         step("llm_call", "answer")]  # fmt: skip
    rows = align(a, b)
    assert [row["kind"] for row in rows] == ["identical", "changed", "added", "identical"]
    assert rows[1]["diff"]["input"]["changes"] == [{"path": "$.q", "op": "changed", "a": "mars", "b": "venus"}]
    assert [row["kind"] for row in align(b, a)] == ["identical", "changed", "removed", "identical"]


def test_it_works_on_a_replay(api, make_run):
    steps = [
        {"step_type": "llm_call", "name": "plan", "input": {}, "output": {"a": "go"}, "tokens_used": 10},
        {"step_type": "tool_call", "name": "search", "input": {"q": "mars"}, "output": ["mars"]},
        {"step_type": "llm_call", "name": "answer", "input": {}, "output": {"text": "Rust."}, "tokens_used": 5},
    ]
    original = make_run(steps=steps)
    replay = run_replay_create(run=original, from_step=1)
    step_create(run=replay, data={"step_type": "tool_call", "name": "search", "input": {"q": "venus"}, "output": []})
    step_create(run=replay, data={"step_type": "custom", "name": "apologise", "input": {}, "output": "sorry"})
    answer = api.get(f"/api/runs/{original.pk}/compare/{replay.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert [(row["kind"], (row["a"] or row["b"])["name"]) for row in body["steps"]] == [
        ("identical", "plan"), ("changed", "search"), ("removed", "answer"), ("added", "apologise"),
    ]  # fmt: skip
    changed = body["steps"][1]["diff"]
    assert {c["path"] for c in changed["input"]["changes"]} == {"$.q"}
    assert changed["output"]["changes"] == [{"path": "$[0]", "op": "removed", "a": "mars", "b": None}]
    assert body["counts"] == {"identical": 1, "changed": 1, "added": 1, "removed": 1}
    totals = {row["field"]: row for row in body["totals"]}
    assert totals["total_tokens"]["a"] == 15 and totals["total_tokens"]["b"] == 10
    assert totals["total_tokens"]["delta"] == -5
    assert totals["status"] == {"field": "status", "a": "completed", "b": "pending", "delta": None, "same": False}


def test_it_checks_ownership(api, anon_api, make_run, bob_project):
    mine, bobs = make_run(), make_run(project=bob_project)
    assert api.get(f"/api/runs/{mine.pk}/compare/{bobs.pk}").status_code == 404
    assert api.get(f"/api/runs/{bobs.pk}/compare/{mine.pk}").status_code == 404
    assert anon_api.get(f"/api/runs/{mine.pk}/compare/{mine.pk}").status_code == 401
