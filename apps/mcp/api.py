"""/api/mcp: the MCP inspector's tools, logs and stats. JWT or session, scoped to the caller's projects."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.core.api import validated
from apps.core.pagination import paginated, paginates
from apps.mcp import selectors
from apps.mcp.serializers import (
    McpLogFilter,
    McpLogOutput,
    McpStatsFilter,
    McpStatsOutput,
    McpToolDetailOutput,
    McpToolFilter,
    McpToolOutput,
)
from apps.projects.selectors import project_get


def parsed(serializer_class, request) -> dict:
    filters = validated(serializer_class, request.query_params, omit_none=True)
    if "project_id" in filters:
        project_get(user=request.user, project_id=filters["project_id"])  # 404 for another tenant's
    return filters


@extend_schema(tags=["mcp"], parameters=[McpToolFilter], responses={200: McpToolOutput(many=True)})
@paginates
@api_view(["GET"])
def tool_list(request):
    tools = selectors.tools_for_user(user=request.user, **parsed(McpToolFilter, request))
    return paginated(request, tools, McpToolOutput)


@extend_schema(tags=["mcp"], responses={200: McpToolDetailOutput})
@api_view(["GET"])
def tool_detail(request, tool_id):
    return Response(McpToolDetailOutput(selectors.tool_detail(user=request.user, tool_id=tool_id)).data)


@extend_schema(tags=["mcp"], parameters=[McpLogFilter], responses={200: McpLogOutput(many=True)})
@paginates
@api_view(["GET"])
def log_list(request):
    logs = selectors.logs_for_user(user=request.user, **parsed(McpLogFilter, request))
    return paginated(request, logs, McpLogOutput)


@extend_schema(tags=["mcp"], responses={200: McpLogOutput})
@api_view(["GET"])
def log_detail(request, log_id):
    return Response(McpLogOutput(selectors.log_get(user=request.user, log_id=log_id)).data)


@extend_schema(
    tags=["mcp"],
    parameters=[McpStatsFilter],
    responses={200: McpStatsOutput},
    description="24h in hourly buckets, 7d and 30d in daily ones; p95 is interpolated like percentile_cont.",
)
@api_view(["GET"])
def stats(request):
    filters = parsed(McpStatsFilter, request)
    project = project_get(user=request.user, project_id=filters["project_id"])
    return Response(McpStatsOutput(selectors.mcp_stats(project=project, period=filters["period"])).data)
