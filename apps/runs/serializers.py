"""Shapes of /api/runs and the filters its list shares with the runs page. Shapes only: no rules."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.errors import ApplicationError
from apps.core.fields import StrictIntegerField
from apps.runs.models import CustomPrice, PriceMatch, Run, RunStatus, RunStep, StepStatus, StepType
from apps.runs.search import MAX_QUERY_CHARS, search_query_parse
from apps.runs.selectors import RANGE_FILTERS, RUN_ROW_FIELDS, as_uuid

RUNS_PAGE_SIZE = 50
RUNS_MAX_PAGE_SIZE = 200
STEPS_PAGE_SIZE = 100
STEPS_MAX_PAGE_SIZE = 1000
TIMELINE_PAGE_SIZE = 200
TIMELINE_MAX_PAGE_SIZE = 1000


@extend_schema_field(OpenApiTypes.STR)
class InstantField(serializers.Field):
    """An ISO 8601 date-time, or a date alone: the start of that day, or with `end_of_day` its end
    (so `started_before=2026-03-01` keeps the whole of March 1st). A time without a zone is UTC."""

    default_error_messages = {"invalid": "Use an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:30:00Z."}

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = data.strip() if isinstance(data, str) else ""
        if "T" not in text:  # "2026-03-01 09:30"
            text = text.replace(" ", "T", 1)
        text = text.replace(" ", "+")  # the "+" of an offset, decoded from a URL as a space
        try:
            # A date alone first: fromisoformat (under parse_datetime) would read it as midnight.
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            day = moment = None
        if day is not None:
            return self._day_bound(day)
        if moment is None:
            self.fail("invalid")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.UTC)

    def _day_bound(self, day: date) -> datetime:
        start = datetime.combine(day, time.min, tzinfo=timezone.UTC)
        return start + timedelta(days=1) if self.end_of_day else start

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class MetadataPairField(serializers.Field):
    """`key=value`, read as (key, value)."""

    default_error_messages = {"invalid": "Use key=value, e.g. env=production."}

    def to_internal_value(self, data) -> tuple[str, str]:
        key, sep, value = data.partition("=") if isinstance(data, str) else ("", "", "")
        if not sep or not key.strip() or len(data) > 512 or "\x00" in data:
            self.fail("invalid")
        return key.strip(), value

    def to_representation(self, value):
        return f"{value[0]}={value[1]}"


def _range(help_text: str):
    return serializers.IntegerField(required=False, min_value=0, max_value=2**62, help_text=help_text)


class RunFilterInput(serializers.Serializer):
    """The filters of GET /api/runs and of the /runs page."""

    project_id = serializers.UUIDField(required=False, help_text="One of your projects; default: all of them.")
    status = serializers.ChoiceField(RunStatus.choices, required=False)
    agent_name = serializers.CharField(required=False, max_length=255)
    started_after = InstantField(required=False, help_text="Runs started at or after this time (ISO 8601).")
    started_before = InstantField(
        required=False, end_of_day=True, help_text="Runs started before this time; a date alone includes that day."
    )
    q = serializers.CharField(
        required=False,
        max_length=MAX_QUERY_CHARS,
        help_text=(
            "A run id, or a full-text search of runs and their steps (input, output, error, step names, agent"
            ' names, external ids), in any language: words (all in one run or one step), "exact phrases",'
            " and prefix* words. A run matches when it or one of its steps does."
        ),
    )
    cost_min = serializers.DecimalField(
        required=False, max_digits=20, decimal_places=10, min_value=0, help_text="Runs that cost at least this (USD)."
    )
    cost_max = serializers.DecimalField(
        required=False, max_digits=20, decimal_places=10, min_value=0, help_text="Runs that cost at most this (USD)."
    )
    has_error = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: runs with a failed step; false: without."
    )
    tool = serializers.CharField(required=False, max_length=255, help_text="Runs that called the tool of this name.")
    model = serializers.CharField(
        required=False, max_length=255, help_text="Runs with an LLM call of this model (its `metadata.model`)."
    )
    metadata = MetadataPairField(required=False, help_text="`key=value`: the run's metadata has `key` set to `value`.")
    session_id = serializers.CharField(required=False, max_length=255)
    user_id = serializers.CharField(required=False, max_length=255)
    latency_min = _range("Runs that took at least this many milliseconds.")
    latency_max = _range("Runs that took at most this many milliseconds.")
    tokens_min = _range("Runs that used at least this many tokens.")
    tokens_max = _range("Runs that used at most this many tokens.")
    cursor = serializers.CharField(required=False, max_length=512, help_text="From `next` or `previous`.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=RUNS_MAX_PAGE_SIZE)

    def validate_q(self, value: str) -> str:
        if "\x00" not in value and as_uuid(value.strip()):
            return value
        try:
            search_query_parse(value)
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.errors["q"]) from None
        return value

    def validate(self, attrs):
        after, before = attrs.get("started_after"), attrs.get("started_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"started_before": ["Must be later than started_after."]})
        for name in RANGE_FILTERS:
            low, high = attrs.get(f"{name}_min"), attrs.get(f"{name}_max")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError({f"{name}_max": [f"Must be at least {name}_min."]})
        return attrs


class StepPageInput(serializers.Serializer):
    after = serializers.IntegerField(required=False, min_value=-1, help_text="Steps with a larger index.")
    before = serializers.IntegerField(required=False, min_value=0, help_text="Steps with a smaller index.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=STEPS_MAX_PAGE_SIZE)

    def validate(self, attrs):
        if "after" in attrs and "before" in attrs:
            raise serializers.ValidationError({"before": ["Give `after` or `before`, not both."]})
        return attrs


class TimelineInput(StepPageInput):
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=TIMELINE_MAX_PAGE_SIZE)
    type = serializers.ChoiceField(StepType.choices, required=False, help_text="Only steps of this type.")
    name = serializers.CharField(required=False, max_length=255, help_text="Only steps whose name contains this.")


# Output -----------------------------------------------------------------------------------------


class RunRowOutput(serializers.ModelSerializer):
    project_id = serializers.UUIDField()
    replay_of_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = Run
        fields = list(RUN_ROW_FIELDS)


class SearchMatchOutput(serializers.Serializer):
    step_index = serializers.IntegerField(
        allow_null=True, help_text="The first step that matched; null: the run itself."
    )
    step_name = serializers.CharField(allow_null=True)
    snippet = serializers.CharField(allow_null=True, help_text="Text around the first hit.")
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[start, end) of each hit in `snippet`.",
    )


class RunSearchRowOutput(RunRowOutput):
    match = SearchMatchOutput(required=False, help_text="With `q`: where the run matched.")

    class Meta:
        model = Run
        fields = [*RUN_ROW_FIELDS, "match"]


class RunListOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunSearchRowOutput(many=True)


def search_match(hit) -> dict:
    """SearchMatchOutput's shape for a selectors.SearchHit."""
    snippet, highlights, at = "", [], 0
    for text, is_hit in hit.snippet.parts if hit.snippet else ():
        if is_hit:
            highlights.append([at, at + len(text)])
        snippet, at = snippet + text, at + len(text)
    return {
        "step_index": hit.step_index,
        "step_name": hit.step_name,
        "snippet": snippet or None,
        "highlights": highlights,
    }


class ConversationOutput(serializers.Serializer):
    session_id = serializers.CharField()
    user_id = serializers.CharField(allow_null=True)
    runs = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    total_tokens = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    error_steps = serializers.IntegerField()
    cost_usd = serializers.DecimalField(
        max_digits=20,
        decimal_places=10,
        allow_null=True,
        help_text="USD its runs' priced LLM calls cost; null: none priced.",
    )
    unpriced_steps = serializers.IntegerField(help_text="Its LLM calls whose model has no price (not in cost_usd).")


class SessionListInput(serializers.Serializer):
    project_id = serializers.UUIDField(required=False, help_text="One of your projects; default: all of them.")
    cursor = serializers.CharField(required=False, max_length=1024, help_text="From `next`.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=RUNS_MAX_PAGE_SIZE)


class SessionListOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = ConversationOutput(many=True)


class TurnOutput(RunRowOutput):
    class Meta:
        model = Run
        fields = [*RUN_ROW_FIELDS, "input", "output", "error"]


class SessionDetailOutput(ConversationOutput):
    turns = TurnOutput(many=True, help_text="The session's runs in the order they started, a page at a time.")
    turns_next = serializers.URLField(allow_null=True)


class StepOutput(serializers.ModelSerializer):
    run_id = serializers.UUIDField()
    parent_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(StepStatus.choices)

    class Meta:
        model = RunStep
        fields = [
            "id", "run_id", "step_index", "step_type", "name", "status", "parent_id", "input", "output",
            "metadata", "error", "tokens_used", "latency_ms", "started_at", "ended_at", "created_at",
            "model", "cost_usd", "cost_details",
        ]  # fmt: skip


STEP_COLUMNS = [field for field in StepOutput.Meta.fields if field not in ("run_id", "parent_id")] + ["run", "parent"]


def step_rows(rows: list[dict]) -> list[dict]:
    """StepOutput's shape from `.values(*STEP_COLUMNS)` rows: a page of 1,000 steps would spend most
    of its time in model instances and serializer fields. The JSON renderer writes UUIDs and dates."""
    column = {"run_id": "run", "parent_id": "parent"}
    return [{field: row[column.get(field, field)] for field in StepOutput.Meta.fields} for row in rows]


class StepListOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StepOutput(many=True)


class RunDetailOutput(RunRowOutput):
    steps = StepOutput(many=True, source="first_steps")
    steps_next = serializers.URLField(allow_null=True, help_text="The rest of the steps, when there are more.")

    class Meta:
        model = Run
        fields = [*RUN_ROW_FIELDS, "input", "output", "metadata", "error", "steps", "steps_next"]


class TimelineStepOutput(serializers.Serializer):
    id = serializers.UUIDField()
    index = serializers.IntegerField()
    type = serializers.ChoiceField(StepType.choices)
    name = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(StepStatus.choices)
    start_ms = serializers.IntegerField(allow_null=True, help_text="Start, from the start of the run.")
    duration_ms = serializers.IntegerField(allow_null=True, help_text="So far, while it runs.")
    depth = serializers.IntegerField(help_text="0 for a top-level step, 1 for its children, …")
    parent_id = serializers.UUIDField(allow_null=True)
    tokens = serializers.IntegerField(allow_null=True)
    has_error = serializers.BooleanField()


class TimelineRunOutput(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["id", "status", "started_at", "ended_at", "duration_ms", "step_count", "error_count", "total_tokens"]


class TimelineOutput(serializers.Serializer):
    run = TimelineRunOutput()
    total_ms = serializers.IntegerField(help_text="The span the offsets are relative to.")
    steps = TimelineStepOutput(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# Replay and compare ------------------------------------------------------------------------------


class ReplayInput(serializers.Serializer):
    from_step = StrictIntegerField(help_text="The step to fork at: steps before it are copied as recorded.")
    input = serializers.JSONField(
        required=False, allow_null=True, help_text="A new run input (default: the original's)."
    )
    step_input = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A new input for step `from_step`: the SDK calls it with these arguments.",
    )
    step_output = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="An output for step `from_step`: the SDK returns it without running the step.",
    )


class ReplayOutput(RunRowOutput):
    input = serializers.JSONField(allow_null=True)
    metadata = serializers.JSONField(allow_null=True)
    command = serializers.CharField(help_text="Runs the replay; replace module:function with the agent's entry point.")

    class Meta:
        model = Run
        fields = [*RUN_ROW_FIELDS, "input", "metadata", "command"]


class CompareStepOutput(serializers.Serializer):
    kind = serializers.ChoiceField(["identical", "changed", "added", "removed"])
    a = serializers.DictField(allow_null=True, help_text="The step of run A (none when added).")
    b = serializers.DictField(allow_null=True, help_text="The step of run B (none when removed).")
    diff = serializers.DictField(help_text="Per field (input, output, error): {changes: [{path, op, a, b}], more}.")


class CompareTotalOutput(serializers.Serializer):
    field = serializers.CharField()
    a = serializers.JSONField(allow_null=True)
    b = serializers.JSONField(allow_null=True)
    delta = serializers.JSONField(allow_null=True, help_text="b - a: a number, or for cost_usd a decimal string (USD)")
    same = serializers.BooleanField()


class CompareOutput(serializers.Serializer):
    a = RunRowOutput()
    b = RunRowOutput()
    totals = CompareTotalOutput(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    steps = CompareStepOutput(many=True)
    run_diff = serializers.DictField(help_text="JSON diffs of the runs' input and output, when they differ.")
    truncated = serializers.BooleanField(help_text="True when a run has more steps than the diff covers.")


# Custom prices (/api/projects/{id}/prices) ------------------------------------------------------


def _per_million(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=6, min_value=0, **kwargs)


class CustomPriceInput(serializers.Serializer):
    model = serializers.CharField(max_length=255, help_text="A model name, or a glob pattern (`match: glob`).")
    match = serializers.ChoiceField(PriceMatch.choices, default=PriceMatch.EXACT)
    input_per_million = _per_million(help_text="USD per million input tokens.")
    output_per_million = _per_million(help_text="USD per million output tokens.")
    cache_read_per_million = _per_million(required=False, allow_null=True, help_text="Default: the input price.")
    cache_write_per_million = _per_million(required=False, allow_null=True, help_text="Default: the input price.")
    reasoning_per_million = _per_million(required=False, allow_null=True, help_text="Default: the output price.")


class CustomPriceOutput(serializers.ModelSerializer):
    class Meta:
        model = CustomPrice
        fields = [
            "id", "model", "match", "input_per_million", "output_per_million", "cache_read_per_million",
            "cache_write_per_million", "reasoning_per_million", "created_at", "updated_at",
        ]  # fmt: skip
