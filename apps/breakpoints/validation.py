"""A breakpoint's condition, checked on save: each type has its own value shape."""

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions

from apps.breakpoints.models import ConditionType
from apps.core.errors import ApplicationError
from apps.runs.models import StepType

MATCH_MODES = ("exact", "glob")
MAX_PATTERN_LENGTH = 255
MAX_EXPRESSION_LENGTH = 2000
FUNCTIONS = Functions().FUNCTION_TABLE


def _refuse(message: str, field: str = "condition_value"):
    raise ApplicationError(f"{field}: {message}", errors={field: [message]})


def _keys_only(value: dict, allowed: set[str]) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "no keys"
        _refuse(f"unknown key(s) {', '.join(unknown)}; expected {expected}.")


def _nonblank_string(value: dict, key: str, max_length: int) -> str:
    text = value.get(key)
    if not isinstance(text, str) or not text.strip():
        _refuse(f"{key} is required and must be a non-empty string.")
    if len(text) > max_length:
        _refuse(f"{key} must be at most {max_length} characters.")
    return text


def _step_type(value: dict) -> dict:
    _keys_only(value, {"step_type"})
    if value.get("step_type") not in StepType.values:
        _refuse(f"step_type must be one of {', '.join(StepType.values)}.")
    return {"step_type": value["step_type"]}


def _step_name(value: dict) -> dict:
    _keys_only(value, {"pattern", "match"})
    pattern = _nonblank_string(value, "pattern", MAX_PATTERN_LENGTH)
    match = value.get("match", "exact")
    if match not in MATCH_MODES:
        _refuse('match must be "exact" or "glob".')
    return {"pattern": pattern, "match": match}


def _function_problems(node: dict):
    """Unknown functions and wrong argument counts, which JMESPath only finds when it evaluates."""
    if node.get("type") == "function_expression":
        name, given = node["value"], len(node["children"])
        signature = FUNCTIONS.get(name, {}).get("signature")
        if signature is None:
            yield f"unknown function {name}()."
        elif signature and signature[-1].get("variadic"):
            if given < len(signature):
                yield f"{name}() takes at least {len(signature)} argument(s), got {given}."
        elif given != len(signature):
            yield f"{name}() takes {len(signature)} argument(s), got {given}."
    for child in node.get("children", []):
        if isinstance(child, dict):
            yield from _function_problems(child)


def _custom(value: dict) -> dict:
    _keys_only(value, {"expression"})
    expression = _nonblank_string(value, "expression", MAX_EXPRESSION_LENGTH)
    try:
        parsed = jmespath.compile(expression)
    except JMESPathError as exc:
        _refuse(f"expression is not valid JMESPath: {str(exc).splitlines()[0]}")
    problem = next(_function_problems(parsed.parsed), None)
    if problem:
        _refuse(f"expression is not valid JMESPath: {problem}")
    return {"expression": expression}


def _on_error(value: dict) -> dict:
    _keys_only(value, set())
    return {}


VALIDATORS = {
    ConditionType.STEP_TYPE: _step_type,
    ConditionType.STEP_NAME: _step_name,
    ConditionType.CUSTOM: _custom,
    ConditionType.ON_ERROR: _on_error,
}


def condition_validate(*, condition_type: str, condition_value) -> dict:
    """The normalised condition value, or an ApplicationError naming the field at fault."""
    if condition_type not in ConditionType.values:
        _refuse(f"must be one of {', '.join(ConditionType.values)}.", field="condition_type")
    if condition_value is None and condition_type == ConditionType.ON_ERROR:
        condition_value = {}
    if condition_value is None:
        _refuse("This field is required.")
    if not isinstance(condition_value, dict):
        _refuse("must be a JSON object.")
    return VALIDATORS[condition_type](condition_value)
