from django.db import models

from apps.core.models import TimestampedModel, UUIDModel
from apps.projects.models import Project
from apps.runs.models import Run


class LogType(models.TextChoices):
    CALL = "call"
    RESPONSE = "response"
    ERROR = "error"


class McpTool(TimestampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mcp_tools")
    tool_name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    input_schema = models.JSONField(null=True, blank=True)
    server_name = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        db_table = "mcp_tools"
        ordering = ["tool_name"]
        constraints = [models.UniqueConstraint(fields=["project", "tool_name"], name="mcp_tools_project_tool_uniq")]
        verbose_name = "MCP tool"

    def __str__(self) -> str:
        return self.tool_name


class McpLog(UUIDModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="mcp_logs")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="mcp_logs")
    tool = models.ForeignKey(McpTool, on_delete=models.SET_NULL, null=True, blank=True, related_name="logs")
    log_type = models.CharField(max_length=50, choices=LogType.choices)
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "mcp_logs"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["run"], name="idx_mcp_logs_run_id"),
            models.Index(fields=["project", "-created_at"], name="idx_mcp_logs_project_id"),
        ]
        verbose_name = "MCP log"

    def __str__(self) -> str:
        return f"{self.log_type} {self.tool_id or ''}".strip()
