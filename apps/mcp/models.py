import difflib
import json

from django.db import models
from django.utils import timezone

from apps.core.models import TimestampedModel, UUIDModel
from apps.projects.models import Project
from apps.runs.models import Run

# What a server says a tool is: a change to any of these is a new version of the tool.
DEFINITION_FIELDS = ("title", "description", "input_schema", "output_schema", "annotations")


class LogType(models.TextChoices):
    CALL = "call"
    RESPONSE = "response"
    ERROR = "error"


class McpTool(TimestampedModel):
    """A tool of an MCP server, one per project, server and name: two servers may offer a tool of the
    same name. `server_name` is "" for a server never named. `created_at` is when it was first seen.

    `version` counts the definitions the tool has had (0 while it is known only from a log); every
    definition is kept as a `McpToolVersion`, so a tool whose description changed under the agents
    that use it is flagged (`changed`) with a diff."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mcp_tools")
    tool_name = models.CharField(max_length=255)
    title = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    input_schema = models.JSONField(null=True, blank=True)
    output_schema = models.JSONField(null=True, blank=True)
    annotations = models.JSONField(null=True, blank=True)
    server_name = models.CharField(max_length=255, blank=True, default="")
    version = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When the definition last changed.")

    class Meta:
        db_table = "mcp_tools"
        ordering = ["tool_name", "server_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "server_name", "tool_name"], name="mcp_tools_project_server_tool_uniq"
            )
        ]
        verbose_name = "MCP tool"

    def __str__(self) -> str:
        return f"{self.server_name}/{self.tool_name}" if self.server_name else self.tool_name

    @property
    def changed(self) -> bool:
        return self.version > 1

    def definition(self) -> dict:
        return {field: getattr(self, field) for field in DEFINITION_FIELDS}

    @property
    def has_definition(self) -> bool:
        return any(value is not None for value in self.definition().values())

    def parameters(self) -> list[dict]:
        """The input schema as a table a person reads: name, type, required, description; required
        parameters first, then by name (PostgreSQL's jsonb keeps no key order)."""
        schema = self.input_schema if isinstance(self.input_schema, dict) else {}
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        rows = []
        for name, prop in properties.items():
            prop = prop if isinstance(prop, dict) else {}
            rows.append(
                {
                    "name": name,
                    "type": schema_type(prop),
                    "required": name in required,
                    "description": str(prop.get("description") or ""),
                    "default": prop.get("default"),
                }
            )
        return sorted(rows, key=lambda row: (not row["required"], row["name"]))


def schema_type(prop: dict) -> str:
    """A property's type in words: `integer`, `string | null`, `array of string`, `enum: a, b`."""
    if "enum" in prop and isinstance(prop["enum"], list):
        return "enum: " + ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in prop["enum"])
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"array of {schema_type(prop['items'])}"
    if kind:
        return str(kind)
    for key in ("anyOf", "oneOf"):
        if isinstance(prop.get(key), list):
            return " | ".join(schema_type(p) for p in prop[key] if isinstance(p, dict))
    if isinstance(prop.get("$ref"), str):
        return prop["$ref"].rsplit("/", 1)[-1]
    return "any"


class McpToolVersion(UUIDModel):
    """One definition a tool had; version 1 is the first a server registered."""

    tool = models.ForeignKey(McpTool, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    input_schema = models.JSONField(null=True, blank=True)
    output_schema = models.JSONField(null=True, blank=True)
    annotations = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "mcp_tool_versions"
        ordering = ["tool", "-version"]
        constraints = [models.UniqueConstraint(fields=["tool", "version"], name="mcp_tool_versions_tool_version_uniq")]
        verbose_name = "MCP tool version"

    def __str__(self) -> str:
        return f"{self.tool_id} v{self.version}"

    def definition(self) -> dict:
        return {field: getattr(self, field) for field in DEFINITION_FIELDS}

    def diff_from(self, previous: "McpToolVersion | None") -> list[dict]:
        """What changed since `previous`: one entry per field, with a unified diff of its text."""
        if previous is None:
            return []
        return definition_diff(previous.definition(), self.definition())


def definition_diff(before: dict, after: dict) -> list[dict]:
    changes = []
    for field in DEFINITION_FIELDS:
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        lines = difflib.unified_diff(
            _diff_text(old).splitlines(), _diff_text(new).splitlines(), "before", "after", lineterm=""
        )
        changes.append({"field": field, "before": old, "after": new, "diff": "\n".join(lines)})
    return changes


def _diff_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class McpLog(UUIDModel):
    """One call of a tool: `call` while no answer has come, then `response` or `error`.

    `schema_errors` lists how the call's arguments broke the tool's `input_schema` when it was
    logged (null when they matched or there was no schema to check)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mcp_logs")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="mcp_logs")
    tool = models.ForeignKey(McpTool, on_delete=models.SET_NULL, null=True, blank=True, related_name="logs")
    # The server the call went to, as its recorder said; null when it didn't (calls recorded before
    # servers were told apart, which the 0003 migration could not place).
    server_name = models.CharField(max_length=255, null=True, blank=True)
    log_type = models.CharField(max_length=50, choices=LogType.choices)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    jsonrpc_id = models.JSONField(null=True, blank=True, help_text="The JSON-RPC id of the request.")
    schema_errors = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "mcp_logs"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["run"], name="idx_mcp_logs_run_id"),
            models.Index(fields=["project", "-created_at"], name="idx_mcp_logs_project_id"),
            models.Index(fields=["tool", "-created_at"], name="idx_mcp_logs_tool_id"),
        ]
        verbose_name = "MCP log"

    def __str__(self) -> str:
        return f"{self.log_type} {self.tool_id or ''}".strip()

    @property
    def violates_schema(self) -> bool:
        return bool(self.schema_errors)
