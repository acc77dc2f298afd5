"""Custom tests: a JMESPath expression over `{"run": ..., "steps": [...]}` that must be truthy.

Truthy as JMESPath defines it: everything except false, null, "", [] and {} (so 0 is truthy).
Example: `length(steps[?step_type=='tool_call']) <= `3`` or `run.output.answer == '42'`.
"""

import jmespath
from jmespath.exceptions import JMESPathError

from apps.testing.evaluators.base import CheckResult, EvaluationError, short


def evaluate(config: dict, run: dict, steps: list[dict], **_) -> list[CheckResult]:
    expression = config["expression"]
    try:
        value = jmespath.search(expression, {"run": run, "steps": steps})
    except JMESPathError as exc:
        raise EvaluationError(f"the expression failed on this run: {exc}") from None
    passed = is_truthy(value)
    verdict = "truthy" if passed else "falsy, expected a truthy value"
    return [CheckResult(expression, passed, value, True, f"the expression gave {short(value)}: {verdict}")]


def is_truthy(value) -> bool:
    return value is not False and value not in (None, "", [], {})
