"""A step-by-step diff of two runs (typically a run and its replay).

Steps are aligned by difflib.SequenceMatcher over their (type, name) keys, in index order: a pair of
aligned steps is `identical` when input, output and error are equal, else `changed` with a JSON
diff of each; unaligned steps are `removed` (only in run A) or `added` (only in run B). Totals
(status, duration, tokens, cost, steps, errors) are compared side by side; a cost is in USD, as a
string (a decimal), and has no difference when either run has no price.
"""

from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from apps.runs.models import Run, RunStep

MAX_STEPS = 5000  # per run: beyond this, the diff covers the first MAX_STEPS steps and says so
MAX_CHANGES = 200  # per JSON value: a diff longer than this is cut, with a count of the rest
COMPARED = ("input", "output", "error")
STEP_FIELDS = ("id", "step_index", "step_type", "name", "status", "tokens_used", "latency_ms", *COMPARED)
TOTALS = ("status", "duration_ms", "total_tokens", "cost_usd", "step_count", "error_count")


def json_diff(a: Any, b: Any, path: str = "$") -> list[dict]:
    """The differences between two JSON values, as {path, op: added|removed|changed, a, b}."""
    if isinstance(a, dict) and isinstance(b, dict):
        changes = []
        for key in list(a) + [key for key in b if key not in a]:
            sub = f"{path}.{key}"
            if key not in b:
                changes.append({"path": sub, "op": "removed", "a": a[key], "b": None})
            elif key not in a:
                changes.append({"path": sub, "op": "added", "a": None, "b": b[key]})
            else:
                changes.extend(json_diff(a[key], b[key], sub))
        return changes
    if isinstance(a, list) and isinstance(b, list):
        changes = []
        for index in range(max(len(a), len(b))):
            sub = f"{path}[{index}]"
            if index >= len(b):
                changes.append({"path": sub, "op": "removed", "a": a[index], "b": None})
            elif index >= len(a):
                changes.append({"path": sub, "op": "added", "a": None, "b": b[index]})
            else:
                changes.extend(json_diff(a[index], b[index], sub))
        return changes
    if a == b and type(a) is type(b):
        return []
    return [{"path": path, "op": "changed", "a": a, "b": b}]


def _steps(run: Run) -> tuple[list[dict], bool]:
    rows = list(RunStep.objects.filter(run=run).order_by("step_index").values(*STEP_FIELDS)[: MAX_STEPS + 1])
    return rows[:MAX_STEPS], len(rows) > MAX_STEPS


def _brief(step: dict | None) -> dict | None:
    if step is None:
        return None
    return {key: step[key] for key in ("id", "step_index", "step_type", "name", "status", "tokens_used", "latency_ms")}


def _pair(a: dict | None, b: dict | None) -> dict:
    if a is None or b is None:
        kind = "added" if a is None else "removed"
        return {"kind": kind, "a": _brief(a), "b": _brief(b), "diff": {}}
    diff = {}
    for field in COMPARED:
        changes = json_diff(a[field], b[field])
        if changes:
            diff[field] = {"changes": changes[:MAX_CHANGES], "more": max(0, len(changes) - MAX_CHANGES)}
    return {"kind": "changed" if diff else "identical", "a": _brief(a), "b": _brief(b), "diff": diff}


def align(steps_a: list[dict], steps_b: list[dict]) -> list[dict]:
    keys_a = [(step["step_type"], step["name"]) for step in steps_a]
    keys_b = [(step["step_type"], step["name"]) for step in steps_b]
    rows = []
    matcher = SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(_pair(steps_a[a0 + k], steps_b[b0 + k]) for k in range(a1 - a0))
            continue
        rows.extend(_pair(step, None) for step in steps_a[a0:a1])
        rows.extend(_pair(None, step) for step in steps_b[b0:b1])
    return rows


def _totals(a: Run, b: Run) -> list[dict]:
    rows = []
    for field in TOTALS:
        value_a, value_b = getattr(a, field), getattr(b, field)
        if field == "cost_usd":
            rows.append(_cost_total(value_a, value_b))
            continue
        numeric = isinstance(value_a, int) and isinstance(value_b, int)
        rows.append(
            {
                "field": field,
                "a": value_a,
                "b": value_b,
                "delta": value_b - value_a if numeric else None,
                "same": value_a == value_b,
            }
        )
    return rows


def _cost_total(a: Decimal | None, b: Decimal | None) -> dict:
    delta = None if a is None or b is None else b - a
    return {
        "field": "cost_usd",
        "a": None if a is None else str(a),
        "b": None if b is None else str(b),
        "delta": None if delta is None else str(delta),
        "same": a == b,
        "delta_abs": None if delta is None else abs(delta),  # for the page: a sign and an amount
        "up": delta is not None and delta > 0,
    }


def runs_compare(*, a: Run, b: Run) -> dict:
    steps_a, cut_a = _steps(a)
    steps_b, cut_b = _steps(b)
    rows = align(steps_a, steps_b)
    counts = {kind: 0 for kind in ("identical", "changed", "added", "removed")}
    for row in rows:
        counts[row["kind"]] += 1
    run_diff = {field: json_diff(getattr(a, field), getattr(b, field))[:MAX_CHANGES] for field in ("input", "output")}
    return {
        "a": a,
        "b": b,
        "totals": _totals(a, b),
        "counts": counts,
        "steps": rows,
        "run_diff": {field: changes for field, changes in run_diff.items() if changes},
        "truncated": cut_a or cut_b,
    }
