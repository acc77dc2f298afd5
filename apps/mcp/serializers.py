from rest_framework import serializers

from apps.mcp.models import LogType, McpLog, McpTool, McpToolVersion
from apps.mcp.selectors import DEFAULT_PERIOD, PERIODS

# Filters (query strings) -------------------------------------------------------------------------


class McpToolFilter(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    server_name = serializers.CharField(required=False, max_length=255)
    changed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only tools whose definition changed (or not)."
    )


class McpLogFilter(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    tool_id = serializers.UUIDField(required=False)
    log_type = serializers.ChoiceField(choices=LogType.choices, required=False)
    run_id = serializers.UUIDField(required=False)
    server_name = serializers.CharField(required=False, max_length=255)
    created_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    created_before = serializers.DateTimeField(required=False, help_text="Exclusive.")
    schema_violation = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only calls that broke the input schema (or not)."
    )


class McpStatsFilter(serializers.Serializer):
    project_id = serializers.UUIDField()
    period = serializers.ChoiceField(choices=list(PERIODS), default=DEFAULT_PERIOD)


# Output ------------------------------------------------------------------------------------------


class McpToolOutput(serializers.ModelSerializer):
    changed = serializers.BooleanField(read_only=True, help_text="The server changed the definition since first seen.")
    call_count = serializers.IntegerField(read_only=True)
    error_count = serializers.IntegerField(read_only=True)
    last_called_at = serializers.DateTimeField(read_only=True, allow_null=True)
    first_seen_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = McpTool
        fields = [
            "id", "project_id", "tool_name", "title", "description", "server_name", "input_schema",
            "output_schema", "annotations", "version", "changed", "changed_at", "first_seen_at", "updated_at",
            "call_count", "error_count", "last_called_at",
        ]  # fmt: skip


class McpChangeOutput(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    diff = serializers.CharField(help_text="A unified diff of the field's text (JSON indented, keys sorted).")


class McpToolVersionOutput(serializers.ModelSerializer):
    changes = McpChangeOutput(many=True, read_only=True, help_text="What changed since the version before.")

    class Meta:
        model = McpToolVersion
        fields = [
            "version", "title", "description", "input_schema", "output_schema", "annotations", "created_at", "changes",
        ]  # fmt: skip


class McpParameterOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)
    default = serializers.JSONField(allow_null=True)


class McpSchemaErrorOutput(serializers.Serializer):
    path = serializers.CharField(allow_blank=True, help_text="Dotted path of the argument; empty for the whole.")
    message = serializers.CharField()
    validator = serializers.CharField()


class McpLogOutput(serializers.ModelSerializer):
    tool_name = serializers.CharField(source="tool.tool_name", read_only=True, allow_null=True, default=None)
    server_name = serializers.CharField(read_only=True, allow_null=True)  # the log's own: null when not recorded
    jsonrpc_id = serializers.JSONField(read_only=True, allow_null=True)
    schema_errors = McpSchemaErrorOutput(many=True, read_only=True, allow_null=True)
    violates_schema = serializers.BooleanField(read_only=True)

    class Meta:
        model = McpLog
        fields = [
            "id", "project_id", "run_id", "tool_id", "tool_name", "server_name", "log_type", "request", "response",
            "error", "latency_ms", "jsonrpc_id", "schema_errors", "violates_schema", "created_at",
        ]  # fmt: skip


class McpToolDetailOutput(McpToolOutput):
    parameters = McpParameterOutput(many=True, read_only=True, help_text="The input schema as a table.")
    versions = McpToolVersionOutput(many=True, read_only=True, source="version_history", help_text="Newest first.")
    recent_logs = McpLogOutput(many=True, read_only=True, help_text="The latest calls, newest first.")

    class Meta(McpToolOutput.Meta):
        fields = [*McpToolOutput.Meta.fields, "parameters", "versions", "recent_logs"]


class McpBucketOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()


class McpToolStatsOutput(serializers.Serializer):
    tool_id = serializers.UUIDField(allow_null=True)
    tool_name = serializers.CharField(allow_null=True)
    server_name = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    avg_latency_ms = serializers.FloatField(allow_null=True)
    p95_latency_ms = serializers.FloatField(allow_null=True)


class McpMostUsedOutput(serializers.Serializer):
    tool_id = serializers.UUIDField(allow_null=True)
    tool_name = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField()


class McpStatsOutput(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS))
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    total_calls = serializers.IntegerField()
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    schema_violations = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    p95_latency_ms = serializers.FloatField(allow_null=True)
    calls_over_time = McpBucketOutput(many=True)
    tools = McpToolStatsOutput(many=True, help_text="Every tool called in the period, most called first.")
    most_used = McpMostUsedOutput(many=True)
