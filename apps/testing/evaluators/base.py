"""What every evaluator returns, and the JSON helpers they share."""

import json
from dataclasses import dataclass, field
from typing import Any

from apps.runs.models import RunStep

MAX_STORED_CHARS = 2_000


class EvaluationError(Exception):
    """A check could not be judged (a limit or a timeout was hit, a baseline is gone): the TestRun is `error`."""


@dataclass
class CheckResult:
    check: str  # what was checked, in words: "output.answer equals \"42\""
    passed: bool
    actual: Any = None
    expected: Any = None
    message: str = ""
    diff: list[str] | None = field(default=None)

    def as_dict(self) -> dict:
        data = {
            "check": self.check,
            "passed": self.passed,
            "actual": clip(self.actual),
            "expected": clip(self.expected),
            "message": self.message,
        }
        if self.diff is not None:
            data["diff"] = self.diff[:200]
        return data


def short(value, length: int = 80) -> str:
    """A one-line preview of a JSON value for messages."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= length else text[: length - 1] + "…"


def clip(value):
    """The value itself when small; otherwise a truncated JSON text, so one result can't grow without bound."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= MAX_STORED_CHARS:
        return value
    return text[:MAX_STORED_CHARS] + f"… ({len(text)} characters)"


def same(a, b) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 and "42" is not 42."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def step_label(step: dict) -> str:
    """`tool_call:search`, or the type alone for an unnamed step: the unit of step sequences."""
    return f"{step.get('step_type')}:{step['name']}" if step.get("name") else str(step.get("step_type"))


def is_error_step(step: dict) -> bool:
    """`RunStep.is_error`, for a step as the evaluators see it (a dict)."""
    return RunStep.error_in(status=step.get("status"), error=step.get("error"), step_type=step.get("step_type"))
