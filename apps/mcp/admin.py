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


class ServerRecordedFilter(admin.SimpleListFilter):
    """The calls whose server wasn't recorded: those the migration that keyed tools by server could
    not place (mcp 0003), and those of recorders that didn't say."""

    title = "server"
    parameter_name = "server"

    def lookups(self, request, model_admin):
        return [("recorded", "Recorded"), ("not-recorded", "Not recorded")]

    def queryset(self, request, queryset):
        if self.value() in ("recorded", "not-recorded"):
            return queryset.filter(server_name__isnull=self.value() == "not-recorded")
        return queryset


@admin.register(McpLog)
class McpLogAdmin(JSONAdmin):
    list_display = ["created_at", "tool", "server_name", "log_type", "latency_ms", "run", "project"]
    list_filter = [ServerRecordedFilter, "log_type", "created_at"]
    search_fields = ["tool__tool_name", "run__id"]
    list_select_related = ["tool", "run", "project"]
    raw_id_fields = ["project", "run", "tool"]
