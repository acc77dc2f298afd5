import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from apps.core.models import CacheEntry


class PrettyJSONFormField(forms.JSONField):
    """Shows stored JSON indented in the admin's edit form."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, cls=self.encoder)


class JSONAdmin(admin.ModelAdmin):
    """Admin base: JSON columns indented, monospace and large enough to read."""

    formfield_overrides = {
        models.JSONField: {
            "form_class": PrettyJSONFormField,
            "widget": forms.Textarea(attrs={"rows": 12, "cols": 100, "style": "font-family: monospace"}),
        }
    }
    list_per_page = 50
    show_full_result_count = False


def json_preview(value, length: int = 80) -> str:
    if value is None:
        return "—"
    text = json.dumps(value, ensure_ascii=False)
    return format_html("<code>{}</code>", text if len(text) <= length else text[: length - 1] + "…")


@admin.register(CacheEntry)
class CacheEntryAdmin(admin.ModelAdmin):
    """The database cache, which holds the throttles' counters when there is no Redis: deleting a
    `throttle_login_account_…` or `throttle_…_<ip>_…` row lets that account or address try again now."""

    list_display = ["cache_key", "expires"]
    search_fields = ["cache_key"]
    readonly_fields = ["cache_key", "value", "expires"]
    ordering = ["-expires"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
