"""Does a breakpoint match a step? Pure functions over plain dicts, so the editor can test them too."""

from datetime import datetime
from fnmatch import fnmatchcase
from functools import lru_cache

import jmespath
from django.utils import timezone

from apps.breakpoints.models import ConditionType
from apps.core.timing import ms_between
from apps.runs.models import Run, RunStep


@lru_cache(maxsize=512)
def _compiled(expression: str):
    return jmespath.compile(expression)


def jmespath_truthy(value) -> bool:
    """JMESPath's truth: false, null, "", [] and {} are false; 0 is true (unlike Python)."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def custom_evaluate(*, expression: str, step: dict, run: dict):
    """(value, error): the expression's value over {"step", "run"}; errors are caught, never raised."""
    try:
        return _compiled(expression).search({"step": step, "run": run}), None
    except Exception as exc:  # a user's expression must never break ingest
        return None, f"{type(exc).__name__}: {exc}"


def _condition_matches(condition_type: str, value: dict, step: dict, run: dict) -> bool:
    if condition_type == ConditionType.STEP_TYPE:
        return step.get("step_type") == value.get("step_type")
    if condition_type == ConditionType.STEP_NAME:
        name, pattern = step.get("name") or "", value.get("pattern") or ""
        return fnmatchcase(name, pattern) if value.get("match") == "glob" else name == pattern
    if condition_type == ConditionType.CUSTOM:
        result, _error = custom_evaluate(expression=value.get("expression") or "", step=step, run=run)
        return jmespath_truthy(result)
    if condition_type == ConditionType.ON_ERROR:
        return RunStep.error_in(status=step.get("status"), error=step.get("error"), step_type=step.get("step_type"))
    return False


def breakpoint_match(*, breakpoint, step: dict, run: dict) -> bool:
    """Whether `breakpoint` (a Breakpoint, saved or not) stops `step` of `run`; never raises."""
    if breakpoint.agent_name and breakpoint.agent_name != run.get("agent_name"):
        return False
    value = breakpoint.condition_value if isinstance(breakpoint.condition_value, dict) else {}
    return _condition_matches(breakpoint.condition_type, value, step, run)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def step_context(step: RunStep) -> dict:
    """What a custom expression sees as `step`."""
    return {
        "id": str(step.pk),
        "step_index": step.step_index,
        "step_type": step.step_type,
        "name": step.name,
        "status": step.status,
        "input": step.input,
        "output": step.output,
        "metadata": step.metadata,
        "error": step.error,
        "tokens_used": step.tokens_used,
        "latency_ms": step.latency_ms,
        "parent_id": str(step.parent_id) if step.parent_id else None,
        "started_at": _iso(step.started_at),
    }


def run_context(run: Run, *, now: datetime | None = None) -> dict:
    """What a custom expression sees as `run`, with the time it has taken so far."""
    now = now or timezone.now()
    return {
        "id": str(run.pk),
        "agent_name": run.agent_name,
        "external_id": run.external_id,
        "status": run.status,
        "input": run.input,
        "metadata": run.metadata,
        "step_count": run.step_count,
        "error_count": run.error_count,
        "total_tokens": run.total_tokens,
        "duration_ms_so_far": ms_between(run.started_at, now),
        "started_at": _iso(run.started_at),
        "is_replay": run.replay_of_id is not None,
    }
