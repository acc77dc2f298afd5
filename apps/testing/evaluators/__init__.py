"""Evaluators: pure functions `(config, run, steps) -> list[CheckResult]`, one per test type.

`run` is the run as a dict (see selectors.run_for_evaluation), `steps` its steps in order; the
config has been validated (validation.py). An evaluator raises EvaluationError when a check can't
be judged; the service records any exception as a TestRun in `error`, never a 500.
"""

from apps.testing.evaluators import assertion, comparison, custom
from apps.testing.evaluators.base import CheckResult, EvaluationError

EVALUATORS = {"assertion": assertion.evaluate, "comparison": comparison.evaluate, "custom": custom.evaluate}

__all__ = ["EVALUATORS", "CheckResult", "EvaluationError", "evaluate"]


def evaluate(test_type: str, config: dict, run: dict, steps: list[dict], *, baseline=None) -> list[CheckResult]:
    return EVALUATORS[test_type](config, run, steps, baseline=baseline)
