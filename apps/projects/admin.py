from django.contrib import admin

from apps.core.admin import JSONAdmin
from apps.projects.models import ApiKey, Project


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    extra = 0
    can_delete = False


@admin.register(Project)
class ProjectAdmin(JSONAdmin):
    list_display = ["name", "user", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "description", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    inlines = [ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(JSONAdmin):
    list_display = ["key_prefix", "name", "project", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["created_at", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key_prefix", "name", "project__name"]
    list_select_related = ["project"]
    readonly_fields = ["key_hash", "key_prefix", "created_at", "last_used_at"]
    autocomplete_fields = ["project"]
