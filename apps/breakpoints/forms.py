"""The breakpoint editor's form and the run controls' JSON boxes. They only parse what the browser
sent; the rules (what a condition value must hold) live in `validation.py`, shared with the API."""

import json

from django import forms

from apps.breakpoints.models import Breakpoint, ConditionType
from apps.core.errors import ApplicationError
from apps.runs.models import StepType

CONDITION_LABELS = {
    ConditionType.STEP_TYPE: "Step type",
    ConditionType.STEP_NAME: "Step name",
    ConditionType.CUSTOM: "Custom expression",
    ConditionType.ON_ERROR: "On error",
}
MATCH_CHOICES = [("exact", "Exact"), ("glob", "Glob")]

# Custom conditions people reach for: (what it does, the JMESPath expression).
EXAMPLES = [
    ("A tool's argument", "step.name == 'search' && contains(step.input.query, 'password')"),
    ("Tokens so far", "run.total_tokens > `10000`"),
    ("Time so far", "run.duration_ms_so_far > `30000`"),
    ("A model", "step.step_type == 'llm_call' && step.metadata.model == 'gpt-4o'"),
    ("Long runs", "run.step_count >= `20`"),
]


def _mono(attrs: dict | None = None) -> dict:
    return {"class": "mono", "spellcheck": "false", "autocomplete": "off", **(attrs or {})}


class BreakpointForm(forms.Form):
    name = forms.CharField(
        max_length=255, required=False, widget=forms.TextInput(attrs={"placeholder": "e.g. Before every search"})
    )
    condition_type = forms.ChoiceField(
        label="Stop when",
        choices=list(CONDITION_LABELS.items()),
        initial=ConditionType.STEP_TYPE,
        widget=forms.Select(attrs={"data-bp-type": ""}),
    )
    step_type = forms.ChoiceField(label="Step type", choices=StepType.choices, required=False, initial="tool_call")
    pattern = forms.CharField(
        label="Step name",
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs=_mono({"placeholder": "search"})),
    )
    match = forms.ChoiceField(
        label="Match", choices=MATCH_CHOICES, required=False, initial="exact", widget=forms.RadioSelect
    )
    expression = forms.CharField(
        label="JMESPath expression",
        required=False,
        widget=forms.Textarea(attrs=_mono({"rows": 4, "placeholder": "step.input.query != null"})),
    )
    agent_name = forms.CharField(
        label="Agent",
        max_length=255,
        required=False,
        help_text="Only runs of this agent stop here. Leave empty for every agent.",
        widget=forms.TextInput(attrs={"placeholder": "All agents"}),
    )
    enabled = forms.BooleanField(required=False, initial=True)
    step_id = forms.UUIDField(required=False, label="Recent step")

    # The value field each condition type reads, where its errors show.
    VALUE_FIELDS = {
        ConditionType.STEP_TYPE: "step_type",
        ConditionType.STEP_NAME: "pattern",
        ConditionType.CUSTOM: "expression",
    }

    @classmethod
    def initial_for(cls, breakpoint: Breakpoint) -> dict:
        value = breakpoint.condition_value if isinstance(breakpoint.condition_value, dict) else {}
        return {
            "name": breakpoint.name or "",
            "condition_type": breakpoint.condition_type,
            "step_type": value.get("step_type", "tool_call"),
            "pattern": value.get("pattern", ""),
            "match": value.get("match", "exact"),
            "expression": value.get("expression", ""),
            "agent_name": breakpoint.agent_name or "",
            "enabled": breakpoint.enabled,
        }

    @property
    def chosen_type(self) -> str:
        """The condition type to show the inputs of: the one submitted, else the initial one."""
        if self.is_bound:
            submitted = self.data.get(self.add_prefix("condition_type"))
            return submitted if submitted in CONDITION_LABELS else ConditionType.STEP_TYPE
        return self.initial.get("condition_type") or ConditionType.STEP_TYPE

    def condition_value(self) -> dict:
        data, kind = self.cleaned_data, self.cleaned_data["condition_type"]
        if kind == ConditionType.STEP_TYPE:
            return {"step_type": data["step_type"]}
        if kind == ConditionType.STEP_NAME:
            return {"pattern": data["pattern"], "match": data["match"] or "exact"}
        if kind == ConditionType.CUSTOM:
            return {"expression": data["expression"]}
        return {}

    def service_data(self) -> dict:
        """What `breakpoint_create` / `breakpoint_update` take."""
        data = self.cleaned_data
        return {
            "name": data["name"].strip() or None,
            "condition_type": data["condition_type"],
            "condition_value": self.condition_value(),
            "agent_name": data["agent_name"].strip() or None,
            "enabled": data["enabled"],
        }

    def add_service_errors(self, exc: ApplicationError) -> None:
        """Show a service's refusal next to the input it concerns."""
        if not exc.errors:
            self.add_error(None, exc.detail)
        for field, messages in exc.errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(self._field_for(field, message), message)

    def _field_for(self, field: str, message: str) -> str | None:
        if field != "condition_value":
            return field if field in self.fields else None
        if str(message).startswith("match"):
            return "match"
        return self.VALUE_FIELDS.get(self.cleaned_data.get("condition_type"))


class JsonBoxError(ValueError):
    pass


def parse_json_box(text: str | None, *, what: str):
    """The JSON a person typed in a box, or a JsonBoxError they can act on."""
    text = (text or "").strip()
    if not text:
        raise JsonBoxError(f'{what} is empty: type JSON, e.g. {{}} or "text".')
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (to hand back text, wrap it in double quotes)" if text[0] not in '{["' else ""
        raise JsonBoxError(
            f"{what} isn't valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{hint}."
        ) from None
