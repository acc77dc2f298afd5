import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html


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
    """One line of JSON for a list column, cut to `length` characters; all of it in the tooltip."""
    if value is None:
        return "—"
    text = json.dumps(value, ensure_ascii=False)
    shown = text if len(text) <= length else text[: length - 1] + "…"
    return format_html('<code class="json-preview" title="{}">{}</code>', text[:2000], shown)
