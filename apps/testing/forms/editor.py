"""The test editor: one form for the three test types, in a form mode (fields, and a list of checks for
an assertion test) or a JSON mode (the whole config in a textarea).

The form only builds the config; the services validate it (validation.py). Their errors, keyed like
`config.assertions[2].op`, come back next to the field or the check at fault, naming it ("Check 3").
"""

import json

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.testing.evaluators.base import short
from apps.testing.forms.checks import CHECK_KEYS, ROW_FIELDS, ROW_LABELS, VALUE_AS, blank_row, row_check
from apps.testing.forms.config import (
    CHECK_KEY,
    FIELD_KEYS,
    describe_key,
    expected_value,
    fields_from_config,
    fits_form,
    key_stem,
)
from apps.testing.forms.values import MISSING, loose_json, number_in, parsed_json
from apps.testing.models import Test, TestType

METHOD_LABELS = {"exact": "Exact match", "json_equal": "JSON-equal, ignoring keys"}
METHOD_LABELS |= {"text_similarity": "Text similarity", "step_sequence": "Same steps in order"}
AGAINST = (("expected", "An expected value"), ("baseline", "A baseline run"))


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
        metadata = parsed_json(get("metadata"), problems, "config.target.metadata")
        if metadata is not MISSING:
            target["metadata"] = metadata
        config = {"target": target}
        if get("input"):
            config["input"] = loose_json(get("input"))
        if self.chosen_type == TestType.ASSERTION:
            config["assertions"] = [
                row_check(row, f"config.assertions[{i}]", problems) for i, row in enumerate(self.rows)
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
            config["expected"] = expected_value(self.data.get("expected", ""), get("expected_as"), method, problems)
        if method == "json_equal" and get("ignore_keys"):
            config["ignore_keys"] = [key.strip() for key in get("ignore_keys").split(",") if key.strip()]
        if method == "text_similarity" and get("threshold"):
            config["threshold"] = number_in(get("threshold"), problems, "config.threshold")
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
                elif field := FIELD_KEYS.get(key_stem(key)):
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


def run_label(run) -> str:
    """A run in a list to choose from: its agent, when it started, how it ended, its id, a peek at its output."""
    when = timezone.localtime(run.started_at).strftime("%b %d, %H:%M:%S")
    output = f" · output {short(run.output, 48)}" if run.output is not None else ""
    return f"{run.agent_name or 'run'} · {when} · {run.status} · {str(run.pk)[:8]}{output}"
