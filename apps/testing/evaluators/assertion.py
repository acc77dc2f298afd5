"""Assertion tests: a list of checks over one run, each judged on its own.

Kinds of check (see validation.py for what is accepted on save):
- `{"path": ..., "op": equals|contains|not_contains|matches|matches_schema, "value": ...}`: a
  path (apps/testing/paths.py) into the run or a step. `contains` is a substring for text, an
  element for a list, a key (or a subset, for an object value) for an object.
- `{"metric": ..., "op": lt|lte|gt|gte|eq, "value": n}` with metrics: `latency_ms` (the run's
  duration), `tokens` (the run's total, else the sum over steps), `steps` (how many), `errors`
  (error steps, plus one if the run itself recorded an error), `cost_usd` (what the run's LLM steps
  cost in USD, as priced when they were written: apps.runs.pricing), `cost` (`cost` or `cost_usd` in
  the run's metadata, else summed over the steps' metadata).
- `{"op": "step_called", "step_type": ..., "name": ..., "min": 1, "max": n, "order": [...]}`: steps
  of that type and/or name were called between min and max times (min defaults to 1, or 0 when
  only max is given); `order` lists step names (or `{"step_type", "name"}` objects) that must
  appear in that order, other steps in between allowed.
- `{"op": "no_errors"}`: no error step, no failed step and no run error.
"""

import operator
from datetime import datetime

from jsonschema import Draft202012Validator, ValidationError, validators

from apps.core.timing import ms_between
from apps.testing import paths, regexes
from apps.testing.evaluators.base import (
    CheckResult,
    EvaluationError,
    as_text,
    is_error_step,
    same,
    short,
    step_label,
)

PATH_OPS = ("equals", "contains", "not_contains", "matches", "matches_schema")
METRICS = ("latency_ms", "tokens", "steps", "errors", "cost_usd", "cost")
METRIC_OPS = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge, "eq": operator.eq}
SYMBOLS = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "eq": "="}
STEP_OPS = ("step_called", "no_errors")


def evaluate(config: dict, run: dict, steps: list[dict], **_) -> list[CheckResult]:
    return [evaluate_check(check, run, steps) for check in config["assertions"]]


def evaluate_check(check: dict, run: dict, steps: list[dict]) -> CheckResult:
    if "metric" in check:
        return _metric_check(check, run, steps)
    if check["op"] == "step_called":
        return _step_called(check, steps)
    if check["op"] == "no_errors":
        return _no_errors(run, steps)
    return _path_check(check, run, steps)


def _path_check(check: dict, run: dict, steps: list[dict]) -> CheckResult:
    path, op, value = check["path"], check["op"], check.get("value")
    label = f"{path} matches the schema" if op == "matches_schema" else f"{path} {op} {short(value)}"
    found, actual, where = paths.resolve(path, run, steps)
    if not found:
        return CheckResult(label, False, None, value, f"the run has no {where}")
    passed, message = PATH_CHECKS[op](path, actual, value)
    return CheckResult(label, passed, actual, value, message)


def _equals(path, actual, value):
    if same(actual, value):
        return True, f"{path} equals {short(value)}"
    return False, f"expected {path} to equal {short(value)}, got {short(actual)}"


def _contains(path, actual, value):
    if isinstance(actual, str):
        found = isinstance(value, str) and value in actual
    elif isinstance(actual, list):
        found = any(same(item, value) for item in actual)
    elif isinstance(actual, dict):
        if isinstance(value, dict):
            found = all(key in actual and same(actual[key], item) for key, item in value.items())
        else:
            found = isinstance(value, str) and value in actual
    else:
        return False, f"{path} is {short(actual)}: contains works on text, lists and objects"
    if found:
        return True, f"{path} contains {short(value)}"
    return False, f"expected {path} to contain {short(value)}; it is {short(actual)}"


def _not_contains(path, actual, value):
    found, message = _contains(path, actual, value)
    if not found and "works on" in message:
        return False, message
    if found:
        return False, f"expected {path} not to contain {short(value)}; it is {short(actual)}"
    return True, f"{path} does not contain {short(value)}"


def _matches(path, actual, pattern):
    try:
        matched = regexes.search(pattern, as_text(actual))
    except regexes.RegexTooSlow as exc:
        raise EvaluationError(f"{path} matches {short(pattern)}: {exc}") from None
    if matched:
        return True, f"{path} matches /{pattern}/"
    return False, f"expected {path} to match /{pattern}/; it is {short(actual)}"


def _matches_schema(path, actual, schema):
    errors = sorted(SchemaValidator(schema).iter_errors(actual), key=lambda e: list(e.absolute_path))
    if not errors:
        return True, f"{path} matches the schema"
    described = [f"{_json_pointer(e.absolute_path)}: {e.message}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return False, f"{path} does not match the schema: " + "; ".join(described) + more


def _json_pointer(parts) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "(root)"


def _bounded_pattern(validator, pattern, instance, schema):
    """JSON Schema's `pattern`, run through the bounded regex engine instead of `re`."""
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = regexes.search(pattern, instance)
    except regexes.RegexTooSlow as exc:
        raise EvaluationError(f"schema pattern {short(pattern)}: {exc}") from None
    if not matched:
        yield ValidationError(f"{short(instance)} does not match {short(pattern)}")


SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _bounded_pattern})
PATH_CHECKS = {
    "equals": _equals,
    "contains": _contains,
    "not_contains": _not_contains,
    "matches": _matches,
    "matches_schema": _matches_schema,
}


def _metric_check(check: dict, run: dict, steps: list[dict]) -> CheckResult:
    metric, op, bound = check["metric"], check["op"], check["value"]
    label = f"{metric} {SYMBOLS[op]} {bound}"
    actual = metric_value(metric, run, steps)
    if actual is None:
        return CheckResult(label, False, None, bound, f"the run has no {metric} recorded")
    passed = METRIC_OPS[op](actual, bound)
    verdict = "" if passed else ", expected " + f"{SYMBOLS[op]} {bound}"
    if metric == "cost_usd" and run.get("unpriced_steps"):
        verdict += f" ({run['unpriced_steps']} LLM call(s) without a price not counted)"
    return CheckResult(label, passed, actual, bound, f"{metric} is {actual}{verdict}")


def metric_value(metric: str, run: dict, steps: list[dict]):
    if metric == "latency_ms":
        return run.get("duration_ms") if run.get("duration_ms") is not None else _elapsed_ms(run)
    if metric == "tokens":
        return run.get("total_tokens") or sum(s.get("tokens_used") or 0 for s in steps)
    if metric == "steps":
        return len(steps)
    if metric == "errors":
        return sum(1 for s in steps if is_error_step(s)) + (1 if run.get("error") else 0)
    if metric == "cost_usd":
        return run.get("cost_usd")
    return _cost(run, steps)


def _elapsed_ms(run: dict):
    if not (run.get("started_at") and run.get("ended_at")):
        return None
    return ms_between(*(datetime.fromisoformat(run[key]) for key in ("started_at", "ended_at")))


def _cost(run: dict, steps: list[dict]):
    def cost_of(metadata):
        if not isinstance(metadata, dict):
            return None
        value = metadata.get("cost", metadata.get("cost_usd"))
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    own = cost_of(run.get("metadata"))
    if own is not None:
        return own
    costs = [c for c in (cost_of(s.get("metadata")) for s in steps) if c is not None]
    return round(sum(costs), 10) if costs else None


def _step_called(check: dict, steps: list[dict]) -> CheckResult:
    step_type, name, order = check.get("step_type"), check.get("name"), check.get("order")
    wanted = " ".join(part for part in (step_type, repr(name) if name else None) if part) or "steps"
    problems, actual = [], {}
    if step_type or name:
        low = check.get("min", 0 if "max" in check else 1)
        high = check.get("max")
        count = sum(1 for s in steps if _step_matches(s, step_type, name))
        actual["count"] = count
        if count < low or (high is not None and count > high):
            bounds = f"at least {low}" + (f" and at most {high}" if high is not None else "")
            problems.append(f"{wanted} was called {count} time(s), expected {bounds}")
    if order:
        missing = _missing_in_order(order, steps)
        actual["sequence"] = [step_label(s) for s in steps[:50]]
        if missing is not None:
            problems.append(f"expected {_order_label(order)}; {missing} was not called after the ones before it")
    label = f"step_called {wanted}" + (f" in order {_order_label(order)}" if order else "")
    expected = {k: check[k] for k in ("step_type", "name", "min", "max", "order") if k in check}
    counted = f" ({actual['count']} time(s))" if "count" in actual else ""
    message = "; ".join(problems) or f"{wanted} called as expected{counted}"
    return CheckResult(label, not problems, actual, expected, message)


def _step_matches(step: dict, step_type, name) -> bool:
    return (step_type is None or step.get("step_type") == step_type) and (name is None or step.get("name") == name)


def _order_item(item) -> tuple:
    return (None, item) if isinstance(item, str) else (item.get("step_type"), item.get("name"))


def _order_label(order) -> str:
    return " → ".join(item if isinstance(item, str) else step_label(item) for item in order)


def _missing_in_order(order: list, steps: list[dict]):
    """None when `order` is a subsequence of the steps, else the first item that wasn't found in turn."""
    position = 0
    for step in steps:
        if position < len(order) and _step_matches(step, *_order_item(order[position])):
            position += 1
    if position == len(order):
        return None
    item = order[position]
    return item if isinstance(item, str) else step_label(item)


def _no_errors(run: dict, steps: list[dict]) -> CheckResult:
    failing = [s for s in steps if is_error_step(s)]
    problems = []
    if failing:
        named = ", ".join(f"#{s.get('step_index')} {step_label(s)}" for s in failing[:5])
        problems.append(f"{len(failing)} error step(s): {named}")
    if run.get("error") or run.get("status") == "failed":
        problems.append(f"the run failed: {short(run.get('error'))}")
    actual = {
        "error_steps": [
            {"step_index": s.get("step_index"), "name": s.get("name"), "error": s.get("error")} for s in failing[:5]
        ],
        "run_error": run.get("error"),
    }
    return CheckResult("no_errors", not problems, actual, None, "; ".join(problems) or "no errors")
