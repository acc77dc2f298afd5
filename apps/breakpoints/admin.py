from django.contrib import admin

from apps.breakpoints.models import Breakpoint, BreakpointHit
from apps.core.admin import JSONAdmin, json_preview


@admin.register(Breakpoint)
class BreakpointAdmin(JSONAdmin):
    list_display = ["__str__", "condition_type", "condition", "agent_name", "enabled", "project"]
    list_filter = ["condition_type", "enabled"]
    search_fields = ["name", "agent_name", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]

    @admin.display(description="condition value")
    def condition(self, obj):
        return json_preview(obj.condition_value)


@admin.register(BreakpointHit)
class BreakpointHitAdmin(JSONAdmin):
    list_display = ["id", "status", "phase", "action", "breakpoint", "run", "resolved_by", "created_at", "resolved_at"]
    list_filter = ["status", "phase", "action", "timed_out", "created_at"]
    search_fields = ["run__id", "breakpoint__name"]
    list_select_related = ["breakpoint", "run", "resolved_by"]
    raw_id_fields = ["run", "step", "breakpoint", "resolved_by"]
