"""The checks of an assertion test as rows of the editor, and back. A row posts every one of its
inputs whatever its kind, so `getlist("check_<field>")` lines up across rows."""

import json

from apps.runs.models import StepType
from apps.testing.evaluators.assertion import METRIC_OPS, METRICS, PATH_OPS, SYMBOLS
from apps.testing.evaluators.comparison import METHODS
from apps.testing.forms.values import MISSING, number_in, parsed_json

CHECK_KINDS = (
    ("path", "Value at a path"),
    ("metric", "Metric"),
    ("step_called", "Step called"),
    ("no_errors", "No errors"),
)
ROW_FIELDS = ("kind", "path", "op", "value", "value_as", "metric", "metric_op", "metric_value")
ROW_FIELDS += ("step_type", "step_name", "min", "max")
ROW_LABELS = {"path": "path", "op": "operator", "value": "value", "metric": "metric", "metric_op": "operator"}
ROW_LABELS |= {"metric_value": "value", "step_type": "step type", "step_name": "step name", "min": "min", "max": "max"}
# Where a key of a check (as validation names it) shows in a row, by kind of check.
CHECK_KEYS = {
    "path": {"path": "path", "op": "op", "value": "value"},
    "metric": {"metric": "metric", "op": "metric_op", "value": "metric_value"},
    "step_called": {"step_type": "step_type", "name": "step_name", "min": "min", "max": "max"},
    "no_errors": {},
}
VALUE_AS = (("text", "Text"), ("json", "JSON"))


def blank_row(kind: str = "path") -> dict:
    row = dict.fromkeys(ROW_FIELDS, "")
    return row | {"kind": kind, "op": "equals", "value_as": "text", "metric_op": "lt", "errors": {}, "problems": []}


def check_row(check: dict) -> dict:
    """A check of a config as a row of the form."""
    row = blank_row(check_kind(check))
    if row["kind"] == "metric":
        row |= {"metric": check.get("metric", ""), "metric_op": check.get("op", "")}
        row["metric_value"] = str(check.get("value", ""))
    elif row["kind"] == "step_called":
        row |= {"step_type": check.get("step_type", ""), "step_name": check.get("name", "")}
        row |= {"min": str(check.get("min", "")), "max": str(check.get("max", ""))}
    elif row["kind"] == "path":
        value = check.get("value", "")
        row |= {"path": check.get("path", ""), "op": check.get("op", "equals")}
        row |= {"value": value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}
        row["value_as"] = "text" if isinstance(value, str) else "json"
    return row


def check_kind(check: dict) -> str:
    """What a check of a config is: path, metric, step_called or no_errors."""
    if "metric" in check:
        return "metric"
    return check.get("op") if check.get("op") in ("step_called", "no_errors") else "path"


def check_fits(check) -> bool:
    if not isinstance(check, dict):
        return False
    kind = check_kind(check)
    if not set(check) <= set(CHECK_KEYS[kind]) | {"op", "metric"}:
        return False
    choices = {
        "path": [(check.get("op"), PATH_OPS)],
        "metric": [(check.get("op"), METRIC_OPS), (check.get("metric"), METRICS)],
        "step_called": [(check.get("step_type", ""), ["", *StepType.values])],
    }.get(kind, [])
    if any(value not in allowed for value, allowed in choices):
        return False
    numbers = [check.get(key) for key in ("min", "max", "value") if kind in ("step_called", "metric") and key in check]
    return all(isinstance(number, int | float) and not isinstance(number, bool) for number in numbers)


def row_check(row: dict, where: str, problems: dict) -> dict:
    """One row of the form as a check of the config; what can't be read goes into `problems`."""
    kind = row["kind"]
    if kind == "no_errors":
        return {"op": "no_errors"}
    if kind == "metric":
        value = number_in(row["metric_value"].strip(), problems, f"{where}.value", required=True)
        return {"metric": row["metric"], "op": row["metric_op"], "value": value}
    if kind == "step_called":
        check = {"op": "step_called"}
        for key, field in (("step_type", "step_type"), ("name", "step_name")):
            if row[field].strip():
                check[key] = row[field].strip()
        for key in ("min", "max"):
            if row[key].strip():
                check[key] = number_in(row[key].strip(), problems, f"{where}.{key}", whole=True)
        return check
    check = {"path": row["path"].strip(), "op": row["op"]}
    if row["op"] == "matches_schema" or row["value_as"] == "json":
        value = parsed_json(row["value"], problems, f"{where}.value")
        check["value"] = None if value is MISSING else value
        if value is MISSING:
            problems.setdefault(f"{where}.value", ["give a JSON value"])
    else:
        check["value"] = row["value"]
    return check


# The choices the editor's rows (and its comparison's methods) offer, for its template.
OPTIONS = {
    "check_kinds": CHECK_KINDS,
    "path_ops": [(op, op.replace("_", " ")) for op in PATH_OPS],
    "metrics": METRICS,
    "metric_ops": [(op, SYMBOLS[op]) for op in METRIC_OPS],
    "step_types": StepType.choices,
    "methods": METHODS,
    "value_as": VALUE_AS,
}
