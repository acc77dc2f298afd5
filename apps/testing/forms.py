"""The test editor: one form for the three test types, in a form mode (fields, and a list of checks for
an assertion test) or a JSON mode (the whole config in a textarea).

The form only builds the config; the services validate it (validation.py). Their errors, keyed like
`config.assertions[2].op`, come back next to the field or the check at fault, naming it ("Check 3").
A check row posts every one of its inputs whatever its kind, so `getlist("check_<field>")` lines up.
"""

import json
import math
import re

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.runs.models import StepType
from apps.testing.evaluators.assertion import METRIC_OPS, METRICS, PATH_OPS, SYMBOLS
from apps.testing.evaluators.base import short
from apps.testing.evaluators.comparison import METHODS
from apps.testing.models import Test, TestType

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
# Where an error of validation (keyed like `config.method`) shows in the form; checks are rows (CHECK_KEY).
FIELD_KEYS = {f"config.{key}": key for key in ("input", "method", "path", "expected", "baseline_run_id")}
FIELD_KEYS |= {f"config.{key}": key for key in ("ignore_keys", "threshold", "expression")}
FIELD_KEYS |= {"config.target": "agent_name", "config.target.agent_name": "agent_name"}
FIELD_KEYS |= {"config.target.metadata": "metadata", "config.assertions": "checks"}
CHECK_KEY = re.compile(r"^config\.assertions\[(\d+)\](?:\.(\w+))?")
VALUE_AS = (("text", "Text"), ("json", "JSON"))
METHOD_LABELS = {"exact": "Exact match", "json_equal": "JSON-equal, ignoring keys"}
METHOD_LABELS |= {"text_similarity": "Text similarity", "step_sequence": "Same steps in order"}
AGAINST = (("expected", "An expected value"), ("baseline", "A baseline run"))
TARGET_KEYS = {"agent_name", "metadata"}
MISSING = object()


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
        return isinstance(checks, list) and all(_check_fits(check) for check in checks)
    if test_type == TestType.COMPARISON:
        keys = config.get("ignore_keys", [])
        methods_fit = config.get("method") in METHODS
        return methods_fit and isinstance(keys, list) and all(isinstance(key, str) for key in keys)
    return isinstance(config.get("expression", ""), str)


def _check_fits(check) -> bool:
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


def loose_json(text: str):
    """JSON when the text is JSON, else the text itself (an agent's input may be a plain prompt)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def as_loose_text(value) -> str:
    """The inverse of `loose_json`: text that reads back as the same value."""
    if value is None:
        return ""
    if isinstance(value, str) and not _parses(value):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2 if isinstance(value, dict | list) else None)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _area(rows: int, placeholder: str = "", *, mono: bool = True) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "placeholder": placeholder} | ({"class": "mono"} if mono else {}))


def _optional(label: str, widget, help_text: str = "", **kwargs) -> forms.CharField:
    """A field of one type or mode: optional to Django, required or not by the services' validation."""
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text, **kwargs)


class TestEditorForm(forms.Form):
    __test__ = False  # not a pytest test class

    name = forms.CharField(
        max_length=255, widget=forms.TextInput(attrs={"placeholder": "e.g. answers the question", "autofocus": True})
    )
    description = forms.CharField(required=False, widget=_area(1, "What this test guards against", mono=False))
    test_type = forms.ChoiceField(choices=TestType.choices, initial=TestType.ASSERTION, widget=forms.RadioSelect)
    enabled = forms.BooleanField(required=False, initial=True, label="Judge every new run of the agent")
    mode = forms.ChoiceField(choices=(("form", "Form"), ("json", "JSON")), initial="form", widget=forms.HiddenInput)
    agent_name = forms.CharField(
        label="Target agent",
        error_messages={"required": "Name the agent whose runs this test judges."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. support-bot", "list": "agent-names", "autocomplete": "off"}),
        help_text="The test judges the runs this agent reports.",
    )
    metadata = _optional(
        "Only runs with metadata", _area(1, '{"env": "prod"}'), "A JSON object: runs whose metadata holds these values."
    )
    input = _optional(
        "Input for agentscope test",
        _area(2, '{"question": "What is 6*7?"}'),
        "What `agentscope test` runs the agent on: JSON, or plain text.",
    )
    # comparison
    method = forms.ChoiceField(choices=list(METHOD_LABELS.items()), required=False, initial="exact")
    path = _optional("Path", forms.TextInput(attrs={"class": "mono"}), initial="output")
    against = forms.ChoiceField(choices=AGAINST, required=False, initial="expected", widget=forms.RadioSelect)
    expected = _optional("Expected value", _area(3))
    expected_as = forms.ChoiceField(choices=VALUE_AS, required=False, initial="text", label="Read as")
    baseline_run_id = _optional("Baseline run", forms.Select)
    ignore_keys = _optional(
        "Ignore keys",
        forms.TextInput(attrs={"placeholder": "request_id, timestamp", "class": "mono"}),
        "Comma-separated; ignored at any depth.",
    )
    threshold = _optional(
        "Threshold",
        forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1", "placeholder": "0.8"}),
        "The similarity ratio needed to pass, 0 to 1.",
    )
    # custom
    expression = _optional(
        "JMESPath expression",
        _area(3, "length(steps[?step_type=='tool_call']) <= `3`"),
        'Over {"run": ..., "steps": [...]}; the test passes when the result is truthy.',
    )
    config_json = _optional("Config", forms.Textarea(attrs={"rows": 18, "class": "mono", "spellcheck": "false"}))

    def __init__(self, data=None, *, test: Test | None = None, runs=(), **kwargs):
        self.test = test
        initial, rows = self._initial(test)
        super().__init__(data, initial=initial, **kwargs)
        self.fields["baseline_run_id"].widget.choices = self._baseline_choices(runs)
        self.fields["agent_name"].required = self.current_mode == "form"  # in JSON mode it is in the config
        self.rows = self._posted_rows() if self.is_bound else rows
        self.config = None
        self.message = ""

    # ------------------------------------------------------------ initial state

    @staticmethod
    def _initial(test: Test | None) -> tuple[dict, list[dict]]:
        if test is None:
            return {}, [blank_row()]
        config = test.config if isinstance(test.config, dict) else {}
        initial = {
            "name": test.name,
            "description": test.description or "",
            "test_type": test.test_type,
            "enabled": test.enabled,
            "config_json": json.dumps(test.config, indent=2, ensure_ascii=False),
            "mode": "form" if fits_form(test.test_type, config) else "json",
        }
        fields, rows = fields_from_config(test.test_type, config)
        return initial | fields, rows

    def _baseline_choices(self, runs) -> list[tuple[str, str]]:
        choices = [("", "Choose a run…")]
        choices += [(str(run.pk), run_label(run)) for run in runs]
        current = self["baseline_run_id"].value()
        if current and current not in {value for value, _ in choices}:
            choices.append((current, f"Run {current[:8]}"))
        return choices

    def _posted_rows(self) -> list[dict]:
        columns = {field: self.data.getlist(f"check_{field}") for field in ROW_FIELDS}
        count = len(columns["kind"])
        return [
            blank_row() | {field: (values[i] if i < len(values) else "") for field, values in columns.items()}
            for i in range(count)
        ]

    @property
    def current_mode(self) -> str:
        mode = self["mode"].value()
        return mode if mode in ("form", "json") else "form"

    @property
    def chosen_type(self) -> str:
        return self["test_type"].value() or TestType.ASSERTION

    # ------------------------------------------------------------ editor actions

    def handle(self, action: str | None) -> bool:
        """Apply an editor action (add or remove a check, switch mode); True when the action is to save."""
        action = action or "save"
        if action != "save":  # a step of editing: show no "required" errors, only what the step found
            self._errors, self.cleaned_data = ErrorDict(), {}
        if action == "add_check":
            self.rows.append(blank_row())
        elif action.startswith("remove_check:") and action.split(":")[1].isdigit():
            index = int(action.split(":")[1])
            self.rows = [row for i, row in enumerate(self.rows) if i != index]
        elif action == "to_json":
            self._to_json()
        elif action == "to_form":
            self._to_form()
        return action == "save"

    def _to_json(self) -> None:
        config, problems = self._config_from_fields()
        if problems:
            self._route(problems, mode="form")
            return
        self._set_data(mode="json", config_json=json.dumps(config, indent=2, ensure_ascii=False))

    def _to_form(self) -> None:
        try:
            config = json.loads(self.data.get("config_json") or "{}")
        except ValueError as exc:
            self.add_error("config_json", f"not valid JSON: {exc}")
            return
        if not fits_form(self.chosen_type, config):
            self.message = "This config uses options only the JSON mode can edit (or doesn't suit the test type)."
            return
        fields, self.rows = fields_from_config(self.chosen_type, config)
        self._set_data(mode="form", **fields)

    def _set_data(self, **values) -> None:
        self.data = self.data.copy()
        for key, value in values.items():
            self.data[key] = "" if value is None else str(value)

    # ------------------------------------------------------------ building the config

    def clean(self):
        cleaned = super().clean()
        if self.current_mode == "json":
            self.config = self._config_from_json()
        else:
            config, problems = self._config_from_fields()
            self._route(problems)
            self.config = config
        return cleaned

    def is_valid(self) -> bool:
        return super().is_valid() and not any(row["errors"] or row["problems"] for row in self.rows)

    def test_fields(self) -> dict:
        """The fields for `test_create` / `test_update`."""
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "description": data["description"].strip() or None,
            "test_type": data["test_type"],
            "config": self.config,
            "enabled": data["enabled"],
        }

    def _config_from_json(self):
        text = self.data.get("config_json", "")
        try:
            config = json.loads(text)
        except ValueError as exc:
            self.add_error("config_json", f"not valid JSON: {exc}")
            return None
        if not isinstance(config, dict):
            self.add_error("config_json", 'the config is a JSON object: {"target": {...}, ...}')
        return config

    def _config_from_fields(self) -> tuple[dict, dict]:
        """The config the fields describe, and the problems found reading them (keyed as validation keys them)."""
        problems, get = {}, lambda key: (self.data.get(key) or "").strip()
        target = {"agent_name": get("agent_name")}
        metadata = _parsed_json(get("metadata"), problems, "config.target.metadata")
        if metadata is not MISSING:
            target["metadata"] = metadata
        config = {"target": target}
        if get("input"):
            config["input"] = loose_json(get("input"))
        if self.chosen_type == TestType.ASSERTION:
            config["assertions"] = [
                _row_check(row, f"config.assertions[{i}]", problems) for i, row in enumerate(self.rows)
            ]
        elif self.chosen_type == TestType.COMPARISON:
            config |= self._comparison(problems)
        else:
            config["expression"] = self.data.get("expression", "")
        return config, problems

    def _comparison(self, problems: dict) -> dict:
        get = lambda key: (self.data.get(key) or "").strip()  # noqa: E731
        method = get("method")
        config = {"method": method}
        if get("path") and method != "step_sequence":
            config["path"] = get("path")
        if get("against") == "baseline":
            config["baseline_run_id"] = get("baseline_run_id")
        else:
            config["expected"] = _expected(self.data.get("expected", ""), get("expected_as"), method, problems)
        if method == "json_equal" and get("ignore_keys"):
            config["ignore_keys"] = [key.strip() for key in get("ignore_keys").split(",") if key.strip()]
        if method == "text_similarity" and get("threshold"):
            config["threshold"] = _number(get("threshold"), problems, "config.threshold")
        return config

    # ------------------------------------------------------------ errors

    def add_service_errors(self, exc: ApplicationError) -> None:
        if exc.errors:
            self._route(exc.errors)
        else:
            self.add_error(None, exc.detail)

    def _route(self, errors: dict, mode: str | None = None) -> None:
        """Each error next to what it names: a field, a check (by its number), or the JSON config."""
        mode = mode or self.current_mode
        for key, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                if key.startswith("config") and mode == "json":
                    self.add_error("config_json", f"{describe_key(key)}: {message}")
                elif match := CHECK_KEY.match(key):
                    self._row_error(int(match.group(1)), match.group(2), message)
                elif field := FIELD_KEYS.get(_stem(key)):
                    self._field_error(field, message)
                elif key in self.fields:
                    self.add_error(key, message)
                else:
                    self.add_error(None, f"{describe_key(key)}: {message}")

    def _field_error(self, field: str, message: str) -> None:
        if field == "checks":
            self.add_error(None, f"Checks: {message}")
        else:
            self.add_error(field, message)

    def _row_error(self, index: int, key: str | None, message: str) -> None:
        if index >= len(self.rows):
            self.add_error(None, f"Check {index + 1}: {message}")
            return
        row = self.rows[index]
        field = CHECK_KEYS.get(row["kind"], {}).get(key) if key else None
        if field:
            row["errors"].setdefault(field, []).append(message)
        else:
            row["problems"].append(f"{key}: {message}" if key else message)

    def error_summary(self) -> list[str]:
        """Every error of the checks, naming the check: shown at the top of the editor."""
        lines = []
        for number, row in enumerate(self.rows, start=1):
            for field, messages in row["errors"].items():
                lines += [f"Check {number}, {ROW_LABELS.get(field, field)}: {message}" for message in messages]
            lines += [f"Check {number}: {message}" for message in row["problems"]]
        return lines


def _stem(key: str) -> str:
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


def _row_check(row: dict, where: str, problems: dict) -> dict:
    """One row of the form as a check of the config; what can't be read goes into `problems`."""
    kind = row["kind"]
    if kind == "no_errors":
        return {"op": "no_errors"}
    if kind == "metric":
        value = _number(row["metric_value"].strip(), problems, f"{where}.value", required=True)
        return {"metric": row["metric"], "op": row["metric_op"], "value": value}
    if kind == "step_called":
        check = {"op": "step_called"}
        for key, field in (("step_type", "step_type"), ("name", "step_name")):
            if row[field].strip():
                check[key] = row[field].strip()
        for key in ("min", "max"):
            if row[key].strip():
                check[key] = _number(row[key].strip(), problems, f"{where}.{key}", whole=True)
        return check
    check = {"path": row["path"].strip(), "op": row["op"]}
    if row["op"] == "matches_schema" or row["value_as"] == "json":
        value = _parsed_json(row["value"], problems, f"{where}.value")
        check["value"] = None if value is MISSING else value
        if value is MISSING:
            problems.setdefault(f"{where}.value", ["give a JSON value"])
    else:
        check["value"] = row["value"]
    return check


def _expected(text: str, read_as: str, method: str, problems: dict):
    if method == "step_sequence" and read_as != "json":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if read_as == "json":
        value = _parsed_json(text.strip(), problems, "config.expected")
        return None if value is MISSING else value
    return text


def _parsed_json(text: str, problems: dict, key: str):
    if not text.strip():
        return MISSING
    try:
        return json.loads(text)
    except ValueError as exc:
        problems.setdefault(key, []).append(f"not valid JSON ({exc.msg} at character {exc.pos + 1})")
        return MISSING


def _number(text: str, problems: dict, key: str, *, whole: bool = False, required: bool = False):
    if not text:
        if required:
            problems.setdefault(key, []).append("give a number")
        return None
    try:
        number = float(text)
    except ValueError:
        problems.setdefault(key, []).append(f"{text!r} is not a number")
        return None
    if not math.isfinite(number):
        problems.setdefault(key, []).append("a finite number")
        return None
    if whole and not number.is_integer():
        problems.setdefault(key, []).append("a whole number, 0 or more")
        return None
    return int(number) if number.is_integer() and (whole or "." not in text) else number


def run_label(run) -> str:
    """A run in a list to choose from: its agent, when it started, how it ended, its id, a peek at its output."""
    when = timezone.localtime(run.started_at).strftime("%b %d, %H:%M:%S")
    output = f" · output {short(run.output, 48)}" if run.output is not None else ""
    return f"{run.agent_name or 'run'} · {when} · {run.status} · {str(run.pk)[:8]}{output}"


OPTIONS = {
    "check_kinds": CHECK_KINDS,
    "path_ops": [(op, op.replace("_", " ")) for op in PATH_OPS],
    "metrics": METRICS,
    "metric_ops": [(op, SYMBOLS[op]) for op in METRIC_OPS],
    "step_types": StepType.choices,
    "methods": METHODS,
    "value_as": VALUE_AS,
}
