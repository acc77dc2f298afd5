"""Shapes of the ingest API. Input serializers only check shapes; the rules live in the services."""

from datetime import timedelta
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import StrictCharField, StrictIntegerField, StrictUUIDField
from apps.mcp.models import LogType, McpLog, McpTool
from apps.runs.events import INT_MAX
from apps.runs.models import Run, RunStatus, RunStep, StepStatus, StepType

MAX_BATCH_EVENTS = 1000
MAX_STEP_INDEX = 1_000_000_000


def _json(**kwargs):
    return serializers.JSONField(required=False, allow_null=True, **kwargs)


def _metadata():
    return serializers.DictField(required=False, allow_null=True, help_text="Merged into what is stored.")


def _count():
    return StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=INT_MAX)


def _name(**kwargs):
    return StrictCharField(max_length=255, **kwargs)


# Input ------------------------------------------------------------------------------------------


class UsageInput(serializers.Serializer):
    """Token counts as genai-prices counts them: input includes the cache reads and writes, output
    includes the reasoning."""

    input_tokens = _count()
    output_tokens = _count()
    cache_read_tokens = _count()
    cache_write_tokens = _count()
    reasoning_tokens = _count()


@extend_schema_field(
    {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "format": "decimal"}], "nullable": True}
)
class UsdField(serializers.DecimalField):
    """Dollars as a JSON number (what most clients send) or a decimal string (exact); never a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StepCostInput(serializers.Serializer):
    """What prices an LLM step; kept in its metadata (`model`, `provider`, `usage`, `cost_usd`)."""

    model = _name(required=False, allow_null=True, help_text="The model called, e.g. gpt-4o-mini.")
    provider = _name(required=False, allow_null=True, help_text="e.g. openai, anthropic, google.")
    usage = UsageInput(required=False, allow_null=True)
    cost_usd = UsdField(
        max_digits=20,
        decimal_places=10,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="A cost the client already knows: kept as given, and marked reported.",
    )


class IngestRunCreateInput(serializers.Serializer):
    id = StrictUUIDField(required=False, allow_null=True, help_text="Client-chosen id; a retry returns the run.")
    external_id = _name(
        required=False, allow_null=True, allow_blank=True, help_text="Your id; a retry returns the run."
    )
    agent_name = _name()
    input = _json()
    metadata = _metadata()
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    status = serializers.ChoiceField(RunStatus.choices, default=RunStatus.RUNNING)
    session_id = _name(
        required=False, allow_null=True, allow_blank=True, help_text="Runs of one session read as one conversation."
    )
    user_id = _name(required=False, allow_null=True, allow_blank=True, help_text="The end user's id in your system.")

    def validate_external_id(self, value):
        return value or None


class IngestRunUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(RunStatus.choices, required=False)
    session_id = _name(required=False, allow_null=True, allow_blank=True)
    user_id = _name(required=False, allow_null=True, allow_blank=True)
    output = _json()
    error = _json()
    metadata = _metadata()


class IngestRunEndInput(serializers.Serializer):
    status = serializers.ChoiceField([RunStatus.COMPLETED, RunStatus.FAILED], required=False)
    output = _json()
    error = _json()
    metadata = _metadata()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)


class IngestStepCreateInput(StepCostInput):
    id = StrictUUIDField(required=False, allow_null=True, help_text="Client-chosen id; a retry returns the step.")
    step_type = serializers.ChoiceField(StepType.choices)
    name = _name(required=False, allow_null=True, allow_blank=True)
    input = _json()
    output = _json()
    metadata = _metadata()
    error = _json()
    tokens_used = _count()
    latency_ms = _count()
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    parent_id = StrictUUIDField(required=False, allow_null=True)
    step_index = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_STEP_INDEX)
    status = serializers.ChoiceField(StepStatus.choices, required=False)


class IngestStepUpdateInput(StepCostInput):
    output = _json()
    error = _json()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Defaults to now.")
    latency_ms = _count()
    tokens_used = _count()
    metadata = _metadata()
    status = serializers.ChoiceField(StepStatus.choices, required=False)


def _object(**kwargs):
    return serializers.DictField(required=False, allow_null=True, **kwargs)


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 255}, {"type": "integer"}], "nullable": True})
class JsonRpcIdField(serializers.Field):
    """A JSON-RPC id: a string or an integer, kept as given."""

    default_error_messages = {"invalid": "A JSON-RPC id is a string or an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 255:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class IngestMcpToolInput(serializers.Serializer):
    """Fields left out keep their stored value; a change to the definition (title, description,
    schemas, annotations) makes a new version of the tool."""

    tool_name = _name()
    title = _name(required=False, allow_null=True, allow_blank=True)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True)
    input_schema = _object(help_text="A JSON Schema object; calls are checked against it as they are logged.")
    output_schema = _object(help_text="A JSON Schema object.")
    annotations = _object(help_text="The server's hints, e.g. readOnlyHint, destructiveHint.")
    server_name = _name(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="With tool_name, the tool's key: servers may share names.",
    )


class IngestMcpLogInput(serializers.Serializer):
    id = StrictUUIDField(required=False, allow_null=True, help_text="Client-chosen id; a retry returns the log.")
    tool_name = _name(required=False, allow_null=True, help_text="Created when the project has no such tool.")
    server_name = _name(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The server called; the log keeps it, and with tool_name it names the tool.",
    )
    tool_id = StrictUUIDField(required=False, allow_null=True)
    run_id = StrictUUIDField(required=False, allow_null=True)
    log_type = serializers.ChoiceField(LogType.choices)
    request = _json(help_text='The params of tools/call, `{"name": ..., "arguments": {...}}`, or the arguments.')
    response = _json()
    error = _json()
    latency_ms = _count()
    jsonrpc_id = JsonRpcIdField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(required=False, help_text="When the call was made; default now.")


# Batch: the same bodies, naming their run (and step) in the body.


class IngestBatchRunUpdateInput(IngestRunUpdateInput):
    run_id = StrictUUIDField()


class IngestBatchRunEndInput(IngestRunEndInput):
    run_id = StrictUUIDField()


class IngestBatchStepCreateInput(IngestStepCreateInput):
    run_id = StrictUUIDField()


class IngestBatchStepUpdateInput(IngestStepUpdateInput):
    run_id = StrictUUIDField()
    id = StrictUUIDField()


BATCH_EVENT_INPUTS = {
    "run.create": IngestRunCreateInput,
    "run.update": IngestBatchRunUpdateInput,
    "run.end": IngestBatchRunEndInput,
    "step.create": IngestBatchStepCreateInput,
    "step.update": IngestBatchStepUpdateInput,
    "mcp.tool": IngestMcpToolInput,
    "mcp.log": IngestMcpLogInput,
}


class IngestBatchEventInput(serializers.Serializer):
    type = serializers.ChoiceField(list(BATCH_EVENT_INPUTS))
    body = serializers.DictField(help_text="The body of the matching single endpoint, with `run_id` (and `id`).")


class IngestBatchInput(serializers.Serializer):
    """Checks the envelope only: each event is checked on its own so one bad event sinks no other."""

    events = serializers.ListField(max_length=MAX_BATCH_EVENTS)


class IngestBatchSchemaInput(serializers.Serializer):
    # Any JSON value is taken as an event: each is checked on its own and answered in `results`, so that
    # a malformed event (a status 400 there) sinks no other. Documented as what is taken.
    events = serializers.ListField(
        child=serializers.JSONField(),
        max_length=MAX_BATCH_EVENTS,
        help_text=(
            f'At most {MAX_BATCH_EVENTS} events, each `{{"type": ..., "body": {{...}}}}`; one that is not '
            "gets status 400 in `results`, and the others are written."
        ),
    )


# Output -----------------------------------------------------------------------------------------


class IngestErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class IngestRunOutput(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    replay_of_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Run
        fields = [
            "id", "project_id", "external_id", "agent_name", "status", "input", "output", "metadata",
            "error", "started_at", "ended_at", "created_at", "replay_of_id", "replay_from_step",
            "step_count", "error_count", "total_tokens", "duration_ms", "cost_usd", "unpriced_steps",
            "session_id", "user_id",
        ]  # fmt: skip


class IngestStepOutput(serializers.ModelSerializer):
    run_id = serializers.UUIDField(read_only=True)
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = RunStep
        fields = [
            "id", "run_id", "parent_id", "step_index", "step_type", "name", "status", "input", "output",
            "metadata", "error", "tokens_used", "latency_ms", "started_at", "ended_at", "created_at",
            "model", "cost_usd", "cost_details",
        ]  # fmt: skip


_DATETIME = serializers.DateTimeField()  # DRF's own output format: ISO 8601, "Z" for UTC
_UTC_OFFSET = timedelta(0)


def _time(value):
    if value is None:
        return None
    # What DRF gives a UTC time (every time read back) in the site's time zone, UTC, without its calls.
    if value.utcoffset() == _UTC_OFFSET:
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _DATETIME.to_representation(value)


def _uuid(value):
    return None if value is None else str(value)


def _int(value):
    return None if value is None else int(value)


_PLACES = Decimal("1e-10")


def _decimal(value):
    return None if value is None else format(Decimal(value).quantize(_PLACES), "f")  # as DRF writes it


def run_output(run: Run) -> dict:
    """`IngestRunOutput(run).data`, built directly: a ModelSerializer builds its fields on every call."""
    return {
        "id": str(run.id), "project_id": str(run.project_id), "external_id": run.external_id,
        "agent_name": run.agent_name, "status": run.status, "input": run.input, "output": run.output,
        "metadata": run.metadata, "error": run.error, "started_at": _time(run.started_at),
        "ended_at": _time(run.ended_at), "created_at": _time(run.created_at), "replay_of_id": _uuid(run.replay_of_id),
        "replay_from_step": _int(run.replay_from_step), "step_count": _int(run.step_count),
        "error_count": _int(run.error_count), "total_tokens": _int(run.total_tokens), "duration_ms": _int(run.duration_ms),
        "cost_usd": _decimal(run.cost_usd), "unpriced_steps": _int(run.unpriced_steps),
        "session_id": run.session_id, "user_id": run.user_id,
    }  # fmt: skip


def step_output(step: dict) -> dict:
    """`IngestStepOutput(step).data` for a step's values as the write path holds them, built directly
    (see run_output)."""
    return {
        "id": str(step["id"]), "run_id": str(step["run_id"]), "parent_id": _uuid(step["parent_id"]),
        "step_index": _int(step["step_index"]), "step_type": step["step_type"], "name": step["name"],
        "status": step["status"], "input": step["input"], "output": step["output"], "metadata": step["metadata"],
        "error": step["error"], "tokens_used": _int(step["tokens_used"]), "latency_ms": _int(step["latency_ms"]),
        "started_at": _time(step["started_at"]), "ended_at": _time(step["ended_at"]),
        "created_at": _time(step["created_at"]), "model": step["model"], "cost_usd": _decimal(step["cost_usd"]),
        "cost_details": step["cost_details"],
    }  # fmt: skip


class IngestControlOutput(serializers.Serializer):
    action = serializers.ChoiceField(["continue", "pause", "abort"])


class IngestStepCreateOutput(IngestStepOutput):
    control = IngestControlOutput(read_only=True, help_text="What the agent does next.")

    class Meta(IngestStepOutput.Meta):
        fields = [*IngestStepOutput.Meta.fields, "control"]


class IngestMcpToolOutput(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = McpTool
        fields = [
            "id", "project_id", "tool_name", "title", "description", "input_schema", "output_schema",
            "annotations", "server_name", "version", "changed_at", "created_at", "updated_at",
        ]  # fmt: skip


class IngestMcpLogOutput(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    run_id = serializers.UUIDField(read_only=True, allow_null=True)
    tool_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = McpLog
        fields = [
            "id", "project_id", "run_id", "tool_id", "log_type", "request", "response", "error", "latency_ms",
            "jsonrpc_id", "schema_errors", "created_at",
        ]  # fmt: skip


class IngestBatchResultOutput(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text="201 created, 200 already there or updated, 400, 404 or 409.")
    id = serializers.UUIDField(required=False, help_text="The run, step, tool or log; absent on an error.")
    error = IngestErrorOutput(required=False, help_text="Present on an error only.")


class IngestBatchOutput(serializers.Serializer):
    results = IngestBatchResultOutput(many=True)
