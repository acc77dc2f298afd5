"""Helpers of the runs pages: step-type icons (one SVG sprite per page, referenced by every row),
offsets from the start of a run, and the bits of the timeline rows."""

import json

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.core.templatetags.lucide import ICONS
from apps.core.templatetags.ui import duration, epoch_ms, usd
from apps.core.timing import ms_between
from apps.runs.inspection import gist
from apps.runs.models import StepType
from apps.runs.timeline import MIN_BAR_SHARE, error_line

register = template.Library()

STEP_ICONS = {
    StepType.LLM_CALL: "sparkles",
    StepType.TOOL_CALL: "wrench",
    StepType.RETRIEVAL: "file-search",
    StepType.CUSTOM: "braces",
    StepType.ERROR: "triangle-alert",
}
STEP_LABELS = dict(StepType.choices)
ICONS_PAUSE = (
    '<svg class="icon" width="13" height="13" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' + ICONS["octagon-pause"] + "</svg>"
)
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
    if ms is None:
        return "—"
    return "+0 ms" if ms == 0 else f"+{duration(ms)}"


ROW = (
    '<li class="tl-row tone-{tone} d{depth}{selected}{inside}{copied}" id="step-{index}" data-index="{index}" data-id="{id}"{parent}{oob}>'
    "{caret}"
    '<a class="tl-link" href="{href}" hx-get="{fragment}"{current}>'
    '<span class="tl-idx">{index}</span>'
    '<span class="tl-name"><span class="tl-icon type-{type}" title="{type_label}">{icon}</span>'
    '<span class="tl-text"><span class="tl-label">{name}</span>{error}</span>{inside_mark}{copied_mark}{cost}</span>'
    '<span class="tl-dur"{elapsed}>{duration}</span>'
    '<span class="tl-bar" title="{offset} · {duration}"><svg viewBox="0 0 {total} 1" preserveAspectRatio="none">'
    '<rect x="{x}" width="{width}" height="1"></rect>{tick}</svg></span>'
    "</a></li>"
)
# A bar thinner than this share of the run also gets a tick a few pixels wide (a stroke that doesn't
# scale with the axis), so a sub-millisecond step still shows where it happened.
TICK_SHARE = 0.01
TICK = '<line class="tl-tick" x1="{x}" x2="{x}" y1="0" y2="1" vector-effect="non-scaling-stroke"></line>'
COPIED = '<span class="tl-copied" title="Copied from the recorded run: the replay did not execute it">recorded</span>'
INSIDE = '<span class="tl-inside" title="A step inside this one failed">failed inside</span>'
CARET = '<button type="button" class="tl-caret" data-tl-toggle aria-expanded="true" aria-label="Collapse the steps inside"></button>'


EVENT_ROW = (
    '<li class="tl-event tone-{tone} d{depth}" id="event-{id}" data-event-step="{index}"{oob}>'
    '<details class="tl-event-box"><summary class="tl-link">'
    '<span class="tl-idx">{icon}</span>'
    '<span class="tl-name"><span class="tl-text"><span class="tl-label">{title}</span>'
    '<span class="tl-summary">{summary}</span></span></span>'
    '<span class="tl-dur"{elapsed}>{duration}</span>'
    '<span class="tl-bar" title="{offset} · {duration}"><svg viewBox="0 0 {total} 1" preserveAspectRatio="none">'
    '<rect x="{x}" width="{width}" height="1"></rect>{tick}</svg></span>'
    "</summary>{details}</details></li>"
)


NO_PRICE = '<span class="tl-cost is-none" title="No price for this model: add one in Settings, Prices">no price</span>'


def _cost_mark(entry) -> str:
    if entry.cost is not None:
        return format_html('<span class="tl-cost" title="Cost (USD)">{}</span>', usd(entry.cost))
    return mark_safe(NO_PRICE) if entry.unpriced else ""


def _event_rows(events, *, run, entry, total: float, now, oob: bool) -> list[SafeString]:
    """The rows of what happened to a step (a pause), drawn just above it, indented like it."""
    rows = []
    for event in events:
        start = ms_between(run.started_at, event.start) or 0
        length = ms_between(event.start, event.end or now) or 0
        width = max(length, total * MIN_BAR_SHARE)
        details = format_html_join(
            "",
            "<div><dt>{}</dt><dd><code>{}</code></dd></div>",
            ((label, json_compact(value, 600)) for label, value in event.details),
        )
        rows.append(
            format_html(
                EVENT_ROW,
                tone=event.tone,
                depth=min(entry.depth, 12),
                id=event.id,
                index=entry.index,
                oob=mark_safe(' hx-swap-oob="true"') if oob else "",
                icon=mark_safe(ICONS_PAUSE),
                title=event.title,
                summary=event.summary,
                elapsed=format_html(' data-since="{}"', epoch_ms(event.start)) if event.end is None else "",
                duration=duration(length),
                offset=offset(start),
                total=total,
                x=f"{min(start, total):.1f}",
                width=f"{width:.1f}",
                tick=format_html(TICK, x=f"{start + width / 2:.2f}") if width < total * TICK_SHARE else "",
                details=format_html('<dl class="tl-event-details">{}</dl>', details) if event.details else "",
            )
        )
    return rows


@register.simple_tag(takes_context=True)
def timeline_rows(context, entries, oob: bool = False) -> SafeString:
    """The timeline's rows, built here rather than in a template loop: a page has hundreds, and this
    is ~20 times faster. Every value from a step goes through format_html's escaping."""
    parents, selected = context.get("parents") or set(), context.get("selected")
    page, inspector = context["detail_url"], context["inspector_url"]
    query, total = context.get("step_query", ""), context["window"].total_ms
    icons = {kind: step_icon(kind) for kind in STEP_ICONS}
    run = context.get("run")
    fork = (
        run.replay_from_step if run is not None and run.replay_from_step is not None else -1
    )  # a replay's copies end there
    html = []
    events, now = context.get("events") or {}, timezone.now()
    since = epoch_ms(run.started_at) if run is not None else 0  # where a running step's time counts from
    for entry in entries:
        if entry.index in events:
            html += _event_rows(events[entry.index], run=run, entry=entry, total=total, now=now, oob=oob)
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
                error=format_html('<span class="tl-error">{}</span>', entry.error_line) if entry.error_line else "",
                inside=" failed-inside" if entry.failed_inside else "",
                inside_mark=mark_safe(INSIDE) if entry.failed_inside else "",
                copied=" is-copied" if entry.index < fork else "",
                copied_mark=mark_safe(COPIED) if entry.index < fork else "",
                cost=_cost_mark(entry) if entry.index >= fork else "",  # a replay's copies were not called again
                duration=duration(entry.duration_ms),
                # a running step's time counts up in the page between polls (static/js/app.js)
                elapsed=format_html(' data-since="{}"', since + (entry.start_ms or 0))
                if entry.status == "running"
                else "",
                tick=format_html(TICK, x=f"{entry.bar_start + entry.bar_width / 2:.2f}")
                if entry.bar_width < total * TICK_SHARE
                else "",
                offset=offset(entry.start_ms),
                total=total,
                x=f"{entry.bar_start:.1f}",
                width=f"{entry.bar_width:.1f}",
            )
        )
    return mark_safe("".join(html))  # each row escaped by format_html


@register.simple_tag
def run_preview(run) -> str:
    """A list row's "input → output" line (from the row's *_head annotations), '' when it has neither."""
    said = gist(getattr(run, "input_head", None), 60)
    failed = getattr(run, "error_head", None)
    answer = gist(json.dumps(error_line(failed)), 80) if failed else gist(getattr(run, "output_head", None), 80)
    return " → ".join(part for part in (said, answer) if part) if said or answer else ""


@register.filter
def lookup(mapping, key):
    """`mapping[key]`, or None: a registered column's cell for a run, a filter's chosen value."""
    return mapping.get(key) if mapping else None


@register.filter
def json_compact(value, limit: int = 300) -> str:
    """A JSON value on one line, cut at `limit` characters (the compare page's diff cells)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
