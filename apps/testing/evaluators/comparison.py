"""Comparison tests: the run's output (or a path in it) against an expected value or a baseline run.

Methods: `exact` (JSON equality), `json_equal` (equality after dropping `ignore_keys` at any depth;
text that holds a JSON object or list is parsed first), `text_similarity` (difflib's
SequenceMatcher ratio, passing at or above `threshold`, default 0.8) and `step_sequence` (the same
step types and names in the same order, with a diff). The baseline, when used, is handed in as
`{"run": ..., "steps": [...]}` by the service that loaded it.
"""

import difflib
import json
from difflib import SequenceMatcher

from apps.testing import paths
from apps.testing.evaluators.base import CheckResult, EvaluationError, as_text, same, short, step_label

METHODS = ("exact", "json_equal", "text_similarity", "step_sequence")
DEFAULT_THRESHOLD = 0.8
MAX_SIMILARITY_CHARS = 20_000
MAX_DIFFERENCES = 20


def evaluate(config: dict, run: dict, steps: list[dict], *, baseline: dict | None = None) -> list[CheckResult]:
    against = f"baseline run {baseline['run']['id']}" if baseline else "the expected value"
    if config["method"] == "step_sequence":
        expected = [step_label(s) for s in baseline["steps"]] if baseline else sequence_labels(config["expected"])
        return [_step_sequence([step_label(s) for s in steps], expected, against)]
    path = config.get("path", "output")
    label = f"{path} {config['method']} {against}"
    expected = config.get("expected")
    if baseline:
        found, expected, where = paths.resolve(path, baseline["run"], baseline["steps"])
        if not found:
            raise EvaluationError(f"the baseline run has no {where}")
    found, actual, where = paths.resolve(path, run, steps)
    if not found:
        return [CheckResult(label, False, None, expected, f"the run has no {where}")]
    return [COMPARE[config["method"]](label, path, actual, expected, config)]


def sequence_labels(expected: list) -> list[str]:
    return [item if isinstance(item, str) else step_label(item) for item in expected]


def _exact(label, path, actual, expected, config) -> CheckResult:
    if same(actual, expected):
        return CheckResult(label, True, actual, expected, f"{path} is exactly as expected")
    return CheckResult(label, False, actual, expected, f"expected {path} to be {short(expected)}, got {short(actual)}")


def _json_equal(label, path, actual, expected, config) -> CheckResult:
    ignored = set(config.get("ignore_keys") or ())
    left, right = (_without(_parsed(v), ignored) for v in (actual, expected))
    differences = list(_differences(left, right, path))
    if not differences:
        note = f" (ignoring {', '.join(sorted(ignored))})" if ignored else ""
        return CheckResult(label, True, actual, expected, f"{path} is JSON-equal to the expected value{note}")
    shown = "; ".join(differences[:5]) + (f" (and {len(differences) - 5} more)" if len(differences) > 5 else "")
    return CheckResult(label, False, actual, expected, shown, diff=differences[:MAX_DIFFERENCES])


def _parsed(value):
    """Text holding a JSON object or list (as LLM outputs often are) compares as that JSON."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _without(value, ignored: set):
    if isinstance(value, dict):
        return {k: _without(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [_without(v, ignored) for v in value]
    return value


def _differences(actual, expected, where: str):
    """Each place where two JSON values differ, as `where: expected X, got Y`."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in expected.keys() - actual.keys():
            yield f"{where}.{key}: missing (expected {short(expected[key])})"
        for key in actual.keys() - expected.keys():
            yield f"{where}.{key}: not expected (got {short(actual[key])})"
        for key in actual.keys() & expected.keys():
            yield from _differences(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            yield from _differences(a, e, f"{where}[{index}]")
    elif not same(actual, expected):
        yield f"{where}: expected {short(expected)}, got {short(actual)}"


def _text_similarity(label, path, actual, expected, config) -> CheckResult:
    threshold = config.get("threshold", DEFAULT_THRESHOLD)
    left, right = as_text(actual), as_text(expected)
    if max(len(left), len(right)) > MAX_SIMILARITY_CHARS:
        raise EvaluationError(
            f"text_similarity compares at most {MAX_SIMILARITY_CHARS} characters; "
            f"these are {len(left)} and {len(right)}: compare a narrower path"
        )
    ratio = round(SequenceMatcher(None, left, right).ratio(), 4)
    passed = ratio >= threshold
    verdict = "at or above" if passed else "below"
    message = f"{path} is {ratio:.0%} similar to the expected text, {verdict} the {threshold:.0%} threshold"
    return CheckResult(
        label, passed, {"similarity": ratio, "text": actual}, {"threshold": threshold, "text": expected}, message
    )


def _step_sequence(actual: list[str], expected: list[str], against: str) -> CheckResult:
    label = f"step_sequence matches {against}"
    if actual == expected:
        return CheckResult(label, True, actual, expected, f"the same {len(actual)} step(s) in the same order")
    diff = [line for line in difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=2)]
    changed = sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    message = (
        f"the steps differ from {against}: {len(actual)} step(s) against {len(expected)}, {changed} line(s) changed"
    )
    return CheckResult(label, False, actual, expected, message, diff=diff)


COMPARE = {"exact": _exact, "json_equal": _json_equal, "text_similarity": _text_similarity}
