"""Test configs, checked on save with errors that name the bad part: `config.assertions[2].op`.

Every config has `target` (`{"agent_name": ..., "metadata": {...}}`: runs of that agent whose
metadata holds those exact values) and may have `input` (what `agentscope test` runs the agent on).
Then, by type:
- assertion:  `{"assertions": [check, ...]}`, see evaluators/assertion.py;
- comparison: `{"method": ..., "path": "output", "expected": ... | "baseline_run_id": ...,
               "ignore_keys": [...], "threshold": 0.8}`, see evaluators/comparison.py;
- custom:     `{"expression": "<JMESPath>"}`, see evaluators/custom.py.
"""

import json
import uuid

import jmespath
from jmespath.exceptions import JMESPathError
from jsonschema import Draft202012Validator, SchemaError

from apps.core.errors import ApplicationError
from apps.runs.models import Run, StepType
from apps.testing import paths, regexes
from apps.testing.evaluators.assertion import METRIC_OPS, METRICS, PATH_OPS, STEP_OPS
from apps.testing.evaluators.comparison import METHODS
from apps.testing.models import TestType

MAX_CONFIG_BYTES = 256 * 1024
MAX_CHECKS = 100
MAX_EXPRESSION_LENGTH = 2_000
COMMON_KEYS = ("target", "input")
ALL_OPS = (*PATH_OPS, *STEP_OPS, *METRIC_OPS)


class Errors(dict):
    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)


def validate_config(*, test_type, config, project) -> dict:
    """The config, if it is valid for this type in this project; else ApplicationError naming each problem."""
    errors = Errors()
    if test_type not in TestType.values:
        errors.add("test_type", f"unknown test type {_shown(test_type)}; use one of {', '.join(TestType.values)}")
    if not isinstance(config, dict):
        errors.add("config", "config must be a JSON object")
    elif len(json.dumps(config)) > MAX_CONFIG_BYTES:
        errors.add("config", f"config is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    elif test_type in TestType.values:
        _target(config.get("target"), errors)
        VALIDATORS[test_type](config, errors, project)
    if errors:
        key, messages = next(iter(errors.items()))
        raise ApplicationError(f"{key}: {messages[0]}", errors=dict(errors))
    return config


def _shown(value) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def _known_keys(obj: dict, allowed, where: str, errors: Errors) -> None:
    for key in obj:
        if key not in allowed:
            errors.add(f"{where}.{key}", f"unknown key {_shown(key)}; use one of {', '.join(allowed)}")


def _target(target, errors: Errors) -> None:
    if not isinstance(target, dict):
        errors.add("config.target", 'give the runs to judge: {"agent_name": "...", "metadata": {...}}')
        return
    _known_keys(target, ("agent_name", "metadata"), "config.target", errors)
    name = target.get("agent_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        errors.add("config.target.agent_name", "the agent's name, a non-empty string of at most 255 characters")
    metadata = target.get("metadata", {})
    if not isinstance(metadata, dict):
        errors.add("config.target.metadata", "an object of metadata values the run must have")
        return
    for key, value in metadata.items():
        if not key or "__" in key:
            errors.add(f"config.target.metadata.{key}", "a metadata key is non-empty and has no '__'")
        if value is None or isinstance(value, dict | list):
            errors.add(f"config.target.metadata.{key}", "match on a string, number or boolean")


def _assertion(config: dict, errors: Errors, project) -> None:
    _known_keys(config, (*COMMON_KEYS, "assertions"), "config", errors)
    checks = config.get("assertions")
    if not isinstance(checks, list) or not checks:
        errors.add("config.assertions", 'give a non-empty list of checks, e.g. [{"op": "no_errors"}]')
        return
    if len(checks) > MAX_CHECKS:
        errors.add("config.assertions", f"at most {MAX_CHECKS} checks per test")
    for index, check in enumerate(checks[:MAX_CHECKS]):
        _check(check, f"config.assertions[{index}]", errors)


def _check(check, where: str, errors: Errors) -> None:
    if not isinstance(check, dict):
        errors.add(where, 'a check is an object with an "op"')
        return
    op = check.get("op")
    if "metric" in check:
        _metric_check(check, where, errors)
    elif op == "step_called":
        _step_called(check, where, errors)
    elif op == "no_errors":
        _known_keys(check, ("op",), where, errors)
    elif op in PATH_OPS or (op is not None and "path" in check):
        _path_check(check, where, errors)
    elif op is None:
        errors.add(f"{where}.op", f"missing op; use one of {', '.join(ALL_OPS)}")
    else:
        errors.add(f"{where}.op", f"unknown op {_shown(op)}; use one of {', '.join(ALL_OPS)}")


def _path_check(check: dict, where: str, errors: Errors) -> None:
    _known_keys(check, ("path", "op", "value"), where, errors)
    _path(check.get("path"), f"{where}.path", errors)
    op = check["op"]
    if op not in PATH_OPS:
        errors.add(f"{where}.op", f"unknown op {_shown(op)}; use one of {', '.join(PATH_OPS)}")
        return
    if "value" not in check:
        errors.add(f"{where}.value", f"{op} needs a value to compare with")
    elif op == "matches":
        _pattern(check["value"], f"{where}.value", errors)
    elif op == "matches_schema":
        _schema(check["value"], f"{where}.value", errors)


def _path(path, where: str, errors: Errors) -> None:
    try:
        paths.parse(path)
    except paths.PathError as exc:
        errors.add(where, str(exc))


def _pattern(pattern, where: str, errors: Errors) -> None:
    try:
        regexes.check_pattern(pattern)
    except regexes.RegexRefused as exc:
        errors.add(where, str(exc))


def _schema(schema, where: str, errors: Errors) -> None:
    if not isinstance(schema, dict | bool):
        errors.add(where, "a JSON Schema (an object)")
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        errors.add(where, f"invalid JSON Schema: {exc.message}")
        return
    for pattern in _schema_patterns(schema):
        _pattern(pattern, where, errors)


def _schema_patterns(schema):
    """Every regex the schema holds (`pattern` values, `patternProperties` keys), to bound them too."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _schema_patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _schema_patterns(item)


def _metric_check(check: dict, where: str, errors: Errors) -> None:
    _known_keys(check, ("metric", "op", "value"), where, errors)
    if check["metric"] not in METRICS:
        errors.add(f"{where}.metric", f"unknown metric {_shown(check['metric'])}; use one of {', '.join(METRICS)}")
    if check.get("op") not in tuple(METRIC_OPS):
        errors.add(f"{where}.op", f"unknown op {_shown(check.get('op'))}; use one of {', '.join(METRIC_OPS)}")
    if not _is_number(check.get("value")):
        errors.add(f"{where}.value", "a metric is compared with a number")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _step_called(check: dict, where: str, errors: Errors) -> None:
    _known_keys(check, ("op", "step_type", "name", "min", "max", "order"), where, errors)
    if not any(key in check for key in ("step_type", "name", "order")):
        errors.add(where, "say which steps: step_type and/or name, or an order")
    if "step_type" in check:
        _step_type(check["step_type"], f"{where}.step_type", errors)
    if "name" in check and (not isinstance(check["name"], str) or not check["name"]):
        errors.add(f"{where}.name", "the step's name, a non-empty string")
    for key in ("min", "max"):
        if key in check and not (isinstance(check[key], int) and not isinstance(check[key], bool) and check[key] >= 0):
            errors.add(f"{where}.{key}", "a whole number, 0 or more")
    low, high = check.get("min"), check.get("max")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.add(f"{where}.max", f"max ({high}) is below min ({low})")
    if "order" in check:
        _step_list(check["order"], f"{where}.order", errors)


def _step_type(value, where: str, errors: Errors) -> None:
    if value not in StepType.values:
        errors.add(where, f"unknown step type {_shown(value)}; use one of {', '.join(StepType.values)}")


def _step_list(items, where: str, errors: Errors, *, labels: bool = False) -> None:
    """Steps as {"step_type", "name"} objects or as text: a step's name in a step_called `order`,
    a label ("tool_call:search", or "llm_call" for an unnamed step) in a step_sequence."""
    text = 'labels like "tool_call:search"' if labels else "step names"
    if not isinstance(items, list) or not items:
        errors.add(where, f'a non-empty list of {text} or {{"step_type": ..., "name": ...}} objects')
        return
    for index, item in enumerate(items):
        if isinstance(item, str) and item:
            if labels:
                _step_type(item.split(":", 1)[0], f"{where}[{index}]", errors)
        elif isinstance(item, dict) and item and set(item) <= {"step_type", "name"}:
            if "step_type" in item or labels:
                _step_type(item.get("step_type"), f"{where}[{index}].step_type", errors)
        else:
            errors.add(f"{where}[{index}]", f'one of {text} or a {{"step_type": ..., "name": ...}} object')


def _comparison(config: dict, errors: Errors, project) -> None:
    allowed = (*COMMON_KEYS, "method", "path", "expected", "baseline_run_id", "ignore_keys", "threshold")
    _known_keys(config, allowed, "config", errors)
    method = config.get("method")
    if method not in METHODS:
        errors.add("config.method", f"unknown method {_shown(method)}; use one of {', '.join(METHODS)}")
        return
    if ("expected" in config) == ("baseline_run_id" in config):
        errors.add("config.expected", "give either expected (a value) or baseline_run_id (a run to compare with)")
    elif "baseline_run_id" in config:
        _baseline(config["baseline_run_id"], project, errors)
    elif method == "step_sequence":
        _step_list(config["expected"], "config.expected", errors, labels=True)
    if "path" in config:
        if method == "step_sequence":
            errors.add("config.path", "step_sequence compares the run's steps; remove path")
        else:
            _path(config["path"], "config.path", errors)
    _method_options(config, method, errors)


def _method_options(config: dict, method: str, errors: Errors) -> None:
    if "ignore_keys" in config:
        keys = config["ignore_keys"]
        if method != "json_equal":
            errors.add("config.ignore_keys", "ignore_keys applies to json_equal only")
        elif not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            errors.add("config.ignore_keys", "a list of key names to ignore at any depth")
    if "threshold" in config:
        threshold = config["threshold"]
        if method != "text_similarity":
            errors.add("config.threshold", "threshold applies to text_similarity only")
        elif not _is_number(threshold) or not 0 < threshold <= 1:
            errors.add("config.threshold", "a similarity ratio above 0 and at most 1, e.g. 0.8")


def _baseline(run_id, project, errors: Errors) -> None:
    try:
        pk = uuid.UUID(str(run_id))
    except ValueError:
        errors.add("config.baseline_run_id", "a run id (UUID)")
        return
    if not Run.objects.filter(project=project, pk=pk).exists():
        errors.add("config.baseline_run_id", "no run with this id in the test's project")


def _custom(config: dict, errors: Errors, project) -> None:
    _known_keys(config, (*COMMON_KEYS, "expression"), "config", errors)
    expression = config.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        errors.add("config.expression", 'a JMESPath expression over {"run": ..., "steps": [...]}')
    elif len(expression) > MAX_EXPRESSION_LENGTH:
        errors.add("config.expression", f"at most {MAX_EXPRESSION_LENGTH} characters")
    else:
        try:
            jmespath.compile(expression)
        except JMESPathError as exc:
            errors.add("config.expression", f"invalid JMESPath: {' '.join(str(exc).split())}")


VALIDATORS = {TestType.ASSERTION: _assertion, TestType.COMPARISON: _comparison, TestType.CUSTOM: _custom}
