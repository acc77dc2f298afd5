"""Helpers of the runs pages: step-type icons (one SVG sprite per page, referenced by every row),
offsets from the start of a run, and the bits of the timeline rows."""

import json

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.core.templatetags.lucide import ICONS
from apps.core.templatetags.ui import duration
from apps.runs.models import StepType

register = template.Library()

STEP_ICONS = {
    StepType.LLM_CALL: "sparkles",
    StepType.TOOL_CALL: "wrench",
    StepType.RETRIEVAL: "file-search",
    StepType.CUSTOM: "braces",
    StepType.ERROR: "triangle-alert",
}
STEP_LABELS = dict(StepType.choices)
SVG_ATTRS = 'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"'


@register.simple_tag
def step_icon_sprite() -> SafeString:
    """The step-type icons once, as <symbol>s that `{% step_icon %}` points at."""
    symbols = format_html_join(
        "",
        '<symbol id="step-icon-{}" viewBox="0 0 24 24">{}</symbol>',
        ((kind, mark_safe(ICONS[name])) for kind, name in STEP_ICONS.items()),  # our own constant SVG
    )
    return format_html('<svg class="sprite" aria-hidden="true" width="0" height="0">{}</svg>', symbols)


@register.simple_tag
def step_icon(step_type: str, size: int = 14) -> SafeString:
    kind = step_type if step_type in STEP_ICONS else StepType.CUSTOM
    return format_html(
        '<svg class="icon step-icon" width="{}" height="{}" viewBox="0 0 24 24" {} aria-hidden="true">'
        '<use href="#step-icon-{}"></use></svg>',
        size,
        size,
        mark_safe(SVG_ATTRS),
        kind,
    )


@register.filter
def step_label(step_type: str) -> str:
    return STEP_LABELS.get(step_type, str(step_type or "step").replace("_", " ").capitalize())


@register.filter
def offset(ms: int | None) -> str:
    """Milliseconds from the start of the run: '+0 ms', '+1.24 s'."""
    return "—" if ms is None else f"+{duration(ms)}"


ROW = (
    '<li class="tl-row tone-{tone} d{depth}{selected}" id="step-{index}" data-index="{index}" data-id="{id}"{parent}{oob}>'
    "{caret}"
    '<a class="tl-link" href="{href}" hx-get="{fragment}"{current}>'
    '<span class="tl-idx">{index}</span>'
    '<span class="tl-name"><span class="tl-icon type-{type}" title="{type_label}">{icon}</span>'
    '<span class="tl-label">{name}</span></span>'
    '<span class="tl-dur">{duration}</span>'
    '<span class="tl-bar" title="{offset} · {duration}"><svg viewBox="0 0 {total} 1" preserveAspectRatio="none">'
    '<rect x="{x}" width="{width}" height="1"></rect></svg></span>'
    "</a></li>"
)
CARET = '<button type="button" class="tl-caret" data-tl-toggle aria-expanded="true" aria-label="Collapse the steps inside"></button>'


@register.simple_tag(takes_context=True)
def timeline_rows(context, entries, oob: bool = False) -> SafeString:
    """The timeline's rows, built here rather than in a template loop: a page has hundreds, and this
    is ~20 times faster. Every value from a step goes through format_html's escaping."""
    parents, selected = context.get("parents") or set(), context.get("selected")
    page, inspector = context["detail_url"], context["inspector_url"]
    query, total = context.get("step_query", ""), context["window"].total_ms
    icons = {kind: step_icon(kind) for kind in STEP_ICONS}
    html = []
    for entry in entries:
        is_selected = entry.index == selected and not oob
        html.append(
            format_html(
                ROW,
                tone=entry.tone,
                depth=min(entry.depth, 12),
                selected=" is-selected" if is_selected else "",
                index=entry.index,
                id=entry.id,
                parent=format_html(' data-parent="{}"', entry.parent_id) if entry.parent_id else "",
                oob=mark_safe(' hx-swap-oob="true"') if oob else "",
                caret=mark_safe(CARET) if entry.id in parents else "",
                href=f"{page}?step={entry.index}{query}",
                fragment=f"{inspector}?step={entry.index}{query}",
                current=mark_safe(' aria-current="step"') if is_selected else "",
                type=entry.type,
                type_label=step_label(entry.type),
                icon=icons.get(entry.type, icons[StepType.CUSTOM]),
                name=entry.name or entry.type,
                duration=duration(entry.duration_ms),
                offset=offset(entry.start_ms),
                total=total,
                x=f"{entry.bar_start:.1f}",
                width=f"{entry.bar_width:.1f}",
            )
        )
    return mark_safe("".join(html))  # each row escaped by format_html


@register.filter
def json_compact(value, limit: int = 300) -> str:
    """A JSON value on one line, cut at `limit` characters (the compare page's diff cells)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
