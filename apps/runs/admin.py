from django.contrib import admin

from apps.core.admin import JSONAdmin, json_preview
from apps.runs.models import AgentDay, CustomPrice, ModelDay, RollupDay, Run, RunStep
from apps.runs.pricing import custom_prices_forget
from apps.runs.services import run_delete


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
        "cost_usd",
        "duration_ms",
        "started_at",
    ]
    list_filter = ["status", "started_at"]
    search_fields = ["agent_name", "external_id", "id"]
    list_select_related = ["project"]
    date_hierarchy = "started_at"
    raw_id_fields = ["project", "replay_of"]
    # The write path (apps.runs.writes) owns a run's status, times and counters, and the dashboard's
    # rollup follows them: here only what nothing is derived from can change, and a delete goes
    # through the runs' service.
    readonly_fields = [
        f.name for f in Run._meta.concrete_fields if f.name not in ("id", "input", "output", "metadata", "external_id")
    ]
    inlines = [RunStepInline]

    def has_add_permission(self, request) -> bool:
        return False

    def delete_model(self, request, obj: Run) -> None:
        run_delete(run=obj)

    def delete_queryset(self, request, queryset) -> None:
        for run in queryset:
            run_delete(run=run)


@admin.register(RunStep)
class RunStepAdmin(JSONAdmin):
    list_display = [
        "step_index",
        "step_type",
        "name",
        "status",
        "run_short",
        "tokens_used",
        "cost_usd",
        "latency_ms",
        "error_preview",
    ]
    list_filter = ["step_type", "status"]
    search_fields = ["name", "run__agent_name", "run__id"]
    list_select_related = ["run"]
    raw_id_fields = ["run", "parent"]
    readonly_fields = [
        f.name for f in RunStep._meta.concrete_fields if f.name not in ("id", "name", "input", "output", "metadata")
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the run's counters count it: delete the run

    @admin.display(description="run", ordering="run")
    def run_short(self, obj):
        return f"{obj.run.agent_name or 'run'} {str(obj.run_id)[:8]}"

    @admin.display(description="error")
    def error_preview(self, obj):
        return json_preview(obj.error, 60)


@admin.register(RollupDay)
class RollupDayAdmin(admin.ModelAdmin):
    """Closed days of the dashboard's rollup; a day whose rolled version is behind is summed again."""

    list_display = ["day", "project", "version", "rolled_version"]
    list_filter = ["day"]
    search_fields = ["project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = ["version", "rolled_version"]


@admin.register(AgentDay)
class AgentDayAdmin(admin.ModelAdmin):
    list_display = ["day", "agent_name", "runs", "failed", "duration_sum", "duration_count", "cost_sum", "project"]
    list_filter = ["day"]
    search_fields = ["agent_name", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = ["runs", "failed", "duration_sum", "duration_count", "cost_sum"]


@admin.register(ModelDay)
class ModelDayAdmin(admin.ModelAdmin):
    list_display = ["day", "model", "calls", "cost_sum", "project"]
    list_filter = ["day"]
    search_fields = ["model", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = ["calls", "cost_sum"]


@admin.register(CustomPrice)
class CustomPriceAdmin(admin.ModelAdmin):
    """A project's own price for a model; a change applies to new steps (costs_recompute reprices stored ones)."""

    list_display = ["model", "match", "input_per_million", "output_per_million", "project", "updated_at"]
    list_filter = ["match"]
    search_fields = ["model", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        custom_prices_forget(obj.project_id)
