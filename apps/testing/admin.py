from django.contrib import admin

from apps.core.admin import JSONAdmin
from apps.testing.models import Test, TestBackfill, TestRun


@admin.register(Test)
class TestAdmin(JSONAdmin):
    list_display = ["name", "test_type", "project", "enabled", "updated_at"]
    list_filter = ["test_type", "enabled"]
    search_fields = ["name", "description", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]


@admin.register(TestRun)
class TestRunAdmin(JSONAdmin):
    list_display = ["test", "status", "run", "duration_ms", "executed_at"]
    list_filter = ["status", "executed_at"]
    search_fields = ["test__name", "run__id"]
    list_select_related = ["test", "run"]
    raw_id_fields = ["test", "run"]


@admin.register(TestBackfill)
class TestBackfillAdmin(JSONAdmin):
    list_display = ["test", "status", "done", "passed", "failed", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["test__name"]
    list_select_related = ["test"]
    raw_id_fields = ["test"]
