from django.contrib import admin

from apps.core.admin import JSONAdmin, json_preview
from apps.runs.models import Run, RunStep


class RunStepInline(admin.TabularInline):
    model = RunStep
    fk_name = "run"
    fields = ["step_index", "step_type", "name", "status", "tokens_used", "latency_ms"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    max_num = 0


@admin.register(Run)
class RunAdmin(JSONAdmin):
    list_display = [
        "agent_name",
        "status",
        "project",
        "step_count",
        "error_count",
        "total_tokens",
        "duration_ms",
        "started_at",
    ]
    list_filter = ["status", "started_at"]
    search_fields = ["agent_name", "external_id", "id"]
    list_select_related = ["project"]
    date_hierarchy = "started_at"
    raw_id_fields = ["project", "replay_of"]
    readonly_fields = ["created_at"]
    inlines = [RunStepInline]


@admin.register(RunStep)
class RunStepAdmin(JSONAdmin):
    list_display = [
        "step_index",
        "step_type",
        "name",
        "status",
        "run_short",
        "tokens_used",
        "latency_ms",
        "error_preview",
    ]
    list_filter = ["step_type", "status"]
    search_fields = ["name", "run__agent_name", "run__id"]
    list_select_related = ["run"]
    raw_id_fields = ["run", "parent"]
    readonly_fields = ["created_at"]

    @admin.display(description="run", ordering="run")
    def run_short(self, obj):
        return f"{obj.run.agent_name or 'run'} {str(obj.run_id)[:8]}"

    @admin.display(description="error")
    def error_preview(self, obj):
        return json_preview(obj.error, 60)
