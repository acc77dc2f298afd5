"""A test's config and the editor's fields: which configs the form mode can show, the fields that
show one, and what a person calls a key of it when validation refuses it."""

import json
import re

from apps.testing.evaluators.comparison import METHODS
from apps.testing.forms.checks import blank_row, check_fits, check_row
from apps.testing.forms.values import MISSING, as_loose_text, parsed_json
from apps.testing.models import TestType

# Where an error of validation (keyed like `config.method`) shows in the form; checks are rows (CHECK_KEY).
FIELD_KEYS = {f"config.{key}": key for key in ("input", "method", "path", "expected", "baseline_run_id")}
FIELD_KEYS |= {f"config.{key}": key for key in ("ignore_keys", "threshold", "expression")}
FIELD_KEYS |= {"config.target": "agent_name", "config.target.agent_name": "agent_name"}
FIELD_KEYS |= {"config.target.metadata": "metadata", "config.assertions": "checks"}
CHECK_KEY = re.compile(r"^config\.assertions\[(\d+)\](?:\.(\w+))?")
TARGET_KEYS = {"agent_name", "metadata"}


def fits_form(test_type: str, config) -> bool:
    """Whether the form mode can show this config without losing any of it (else: JSON mode)."""
    if not isinstance(config, dict) or not isinstance(config.get("target", {}), dict):
        return False
    allowed = {
        TestType.ASSERTION: {"assertions"},
        TestType.COMPARISON: {"method", "path", "expected", "baseline_run_id", "ignore_keys", "threshold"},
        TestType.CUSTOM: {"expression"},
    }.get(test_type, set())
    if not set(config) <= allowed | {"target", "input"} or not set(config.get("target", {})) <= TARGET_KEYS:
        return False
    if test_type == TestType.ASSERTION:
        checks = config.get("assertions", [])
        return isinstance(checks, list) and all(check_fits(check) for check in checks)
    if test_type == TestType.COMPARISON:
        keys = config.get("ignore_keys", [])
        methods_fit = config.get("method") in METHODS
        return methods_fit and isinstance(keys, list) and all(isinstance(key, str) for key in keys)
    return isinstance(config.get("expression", ""), str)


def fields_from_config(test_type: str, config: dict) -> tuple[dict, list[dict]]:
    """The form fields and check rows that show a config."""
    target = config.get("target") if isinstance(config.get("target"), dict) else {}
    fields = {
        "agent_name": target.get("agent_name", ""),
        "metadata": json.dumps(target["metadata"], ensure_ascii=False) if target.get("metadata") else "",
        "input": as_loose_text(config.get("input")),
        "expression": config.get("expression", ""),
    }
    if test_type == TestType.COMPARISON:
        fields |= _comparison_fields(config)
    rows = [check_row(check) for check in config.get("assertions", []) if isinstance(check, dict)]
    return fields, rows or [blank_row()]


def _comparison_fields(config: dict) -> dict:
    expected = config.get("expected")
    labels = isinstance(expected, list) and all(isinstance(item, str) for item in expected)
    if config.get("method") == "step_sequence" and labels:
        shown, read_as = "\n".join(expected), "text"
    elif isinstance(expected, str):
        shown, read_as = expected, "text"
    else:
        shown = "" if expected is None else json.dumps(expected, indent=2, ensure_ascii=False)
        read_as = "json"
    return {
        "method": config.get("method", "exact"),
        "path": config.get("path", "output"),
        "against": "baseline" if "baseline_run_id" in config else "expected",
        "expected": shown,
        "expected_as": read_as,
        "baseline_run_id": str(config.get("baseline_run_id", "")),
        "ignore_keys": ", ".join(config.get("ignore_keys", [])),
        "threshold": config.get("threshold", ""),
    }


def expected_value(text: str, read_as: str, method: str, problems: dict):
    if method == "step_sequence" and read_as != "json":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if read_as == "json":
        value = parsed_json(text.strip(), problems, "config.expected")
        return None if value is MISSING else value
    return text


def key_stem(key: str) -> str:
    """`config.target.metadata.env` -> `config.target.metadata`; `config.expected[2]` -> `config.expected`."""
    for known in sorted(FIELD_KEYS, key=len, reverse=True):
        if key.startswith(known):
            return known
    return key


def describe_key(key: str) -> str:
    """`config.assertions[2].op` -> `Check 3 (op)`: what a person calls it."""
    match = CHECK_KEY.match(key)
    if match:
        return f"Check {int(match.group(1)) + 1}" + (f" ({match.group(2)})" if match.group(2) else "")
    return key.removeprefix("config.") if key != "config" else "config"
