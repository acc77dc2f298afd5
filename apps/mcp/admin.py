from django.contrib import admin

from apps.core.admin import JSONAdmin
from apps.mcp.models import McpLog, McpTool, McpToolVersion


class McpToolVersionInline(admin.TabularInline):
    model = McpToolVersion
    fields = ["version", "title", "description", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(McpTool)
class McpToolAdmin(JSONAdmin):
    list_display = ["tool_name", "server_name", "version", "project", "updated_at"]
    list_filter = ["server_name"]
    search_fields = ["tool_name", "description", "server_name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    inlines = [McpToolVersionInline]


@admin.register(McpToolVersion)
class McpToolVersionAdmin(JSONAdmin):
    list_display = ["tool", "version", "created_at"]
    search_fields = ["tool__tool_name"]
    list_select_related = ["tool"]
    raw_id_fields = ["tool"]


@admin.register(McpLog)
class McpLogAdmin(JSONAdmin):
    list_display = ["created_at", "tool", "log_type", "latency_ms", "run", "project"]
    list_filter = ["log_type", "created_at"]
    search_fields = ["tool__tool_name", "run__id"]
    list_select_related = ["tool", "run", "project"]
    raw_id_fields = ["project", "run", "tool"]
