from django.contrib import admin

from apps.dashboard.models import AgentDay, RollupDay


@admin.register(RollupDay)
class RollupDayAdmin(admin.ModelAdmin):
    """Which closed days the dashboard has summed; deleting a row makes it sum that day again."""

    list_display = ["day", "project"]
    list_filter = ["day"]
    search_fields = ["project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]


@admin.register(AgentDay)
class AgentDayAdmin(admin.ModelAdmin):
    list_display = ["day", "agent_name", "runs", "failed", "duration_sum", "duration_count", "project"]
    list_filter = ["day"]
    search_fields = ["agent_name", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = ["runs", "failed", "duration_sum", "duration_count"]
