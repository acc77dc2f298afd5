"""Writes to MCP tools (upserted per project by name) and MCP logs (one row per call)."""

from uuid import UUID

from django.db import IntegrityError, transaction
from django.http import Http404

from apps.mcp.models import McpLog, McpTool
from apps.projects.models import Project
from apps.runs.models import Run

TOOL_FIELDS = ("description", "input_schema", "server_name")
LOG_FIELDS = ("request", "response", "error", "latency_ms")


def mcp_tool_upsert(*, project: Project, tool_name: str, data: dict) -> tuple[McpTool, bool]:
    """The tool named `tool_name` with the fields in `data` set, and whether it was created."""
    fields = {key: data[key] for key in TOOL_FIELDS if key in data}
    tool = McpTool.objects.filter(project=project, tool_name=tool_name).first()
    if tool is None:
        try:
            with transaction.atomic():
                return McpTool.objects.create(project=project, tool_name=tool_name, **fields), True
        except IntegrityError:  # registered concurrently: update that one instead
            tool = McpTool.objects.get(project=project, tool_name=tool_name)
    if fields:
        for key, value in fields.items():
            setattr(tool, key, value)
        tool.save(update_fields=[*fields, "updated_at"])
    return tool, False


def mcp_tool_for_log(*, project: Project, tool_id: UUID | None = None, tool_name: str | None = None) -> McpTool | None:
    """The tool a log names: by id (404 unless in `project`), else by name (created when new)."""
    if tool_id:
        tool = McpTool.objects.filter(project=project, pk=tool_id).first()
        if tool is None:
            raise Http404
        return tool
    if tool_name:
        return mcp_tool_upsert(project=project, tool_name=tool_name, data={})[0]
    return None


def mcp_log_create(*, project: Project, log_type: str, data: dict) -> McpLog:
    """Logs one MCP call; `data` may name a tool (`tool_id` or `tool_name`) and a run (`run_id`)."""
    tool = mcp_tool_for_log(project=project, tool_id=data.get("tool_id"), tool_name=data.get("tool_name"))
    run_id = data.get("run_id")
    if run_id and not Run.objects.filter(project=project, pk=run_id).exists():
        raise Http404
    fields = {key: data[key] for key in LOG_FIELDS if key in data}
    return McpLog.objects.create(project=project, tool=tool, run_id=run_id, log_type=log_type, **fields)
