"""The MCP inspector's server-rendered SVG charts and diff lines.

The calls chart is core's stacked bars, as the dashboard's runs chart is; the per-tool bars are drawn
here (mcp sits below dashboard in the app graph, and only the MCP stats break down by tool).
"""

import json
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.charts import Column, stacked_bars
from apps.core.charts import svg_number as _n

register = template.Library()

BARS_H = 220
LABEL_W, VALUE_W, LANE, ROW_PAD = 150, 70, 16, 10


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _bucket_label(start: datetime, unit: str, index: int, count: int) -> tuple[str, str]:
    """(axis label, title) of a bucket: hours for 24h, days otherwise; thinned to stay readable."""
    start = timezone.localtime(start) if timezone.is_aware(start) else start
    if unit == "hour":
        title = f"{start:%a %H}:00 to {(start.hour + 1) % 24:02d}:00"
        return (f"{start:%H}:00" if index % 3 == 0 else ""), title
    title = f"{start:%a %b} {start.day}"
    every = 1 if count <= 10 else 5
    return (f"{start:%b} {start.day}" if index % every == 0 or index == count - 1 else ""), title


@register.simple_tag
def calls_chart(buckets: list[dict], unit: str, label: str = "Calls over time") -> SafeString:
    """Bars of calls per hour or day with the errors in red."""
    columns = []
    for index, bucket in enumerate(buckets):
        axis, when = _bucket_label(bucket["start"], unit, index, len(buckets))
        title = f"{when}: {_plural(bucket['calls'], 'call')}, {_plural(bucket['errors'], 'error')}"
        columns.append(Column(bucket["calls"], bucket["errors"], title, axis))
    return stacked_bars(
        columns, label=label, svg_class="chart mcp-chart", height=BARS_H, bar_ratio=0.64, bar_max=40, rx=2
    )


def _value_text(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if kind == "ms":
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
    return f"{value:,}"


@register.simple_tag
def tool_bars(rows: list[dict], keys: str, kind: str = "count", label: str = "", width: int = 440) -> SafeString:
    """Horizontal bars by tool: one bar per key of `keys` (comma separated: `avg_latency_ms,p95_latency_ms`),
    labelled with the tool's name and the value; `kind` is count, percent or ms. `width` is about the
    width it is shown at, so its text stays the size of the page's."""
    series = [key.strip() for key in keys.split(",")]
    values = [row.get(key) for row in rows for key in series if row.get(key) is not None]
    peak = 1.0 if kind == "percent" else max(values, default=0) or 1
    row_h = LANE * len(series) + ROW_PAD
    plot_w = width - LABEL_W - VALUE_W
    marks = []
    for index, row in enumerate(rows):
        y = index * row_h + ROW_PAD / 2
        name = row.get("tool_name") or "unknown tool"
        shown = name if len(name) <= 20 else name[:19] + "…"
        parts = [
            f"{key.replace('_latency_ms', '').replace('_', ' ')} {_value_text(row.get(key), kind)}" for key in series
        ]
        bars = []
        for n, key in enumerate(series):
            value = row.get(key) or 0
            bar_y = y + n * LANE + 2
            bars.append(
                format_html(
                    '<rect class="hbar-track" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                    '<rect class="hbar hbar-{}" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                    '<text class="chart-axis hbar-value" x="{}" y="{}">{}</text>',
                    LABEL_W,
                    _n(bar_y),
                    plot_w,
                    LANE - 4,
                    n,
                    LABEL_W,
                    _n(bar_y),
                    _n(plot_w * min(value / peak, 1)),
                    LANE - 4,
                    LABEL_W + plot_w + 8,
                    _n(bar_y + (LANE - 4) / 2),
                    _value_text(row.get(key), kind),
                )
            )
        marks.append(
            format_html(
                '<g class="hbar-row" tabindex="0"><title>{}: {}</title>'
                '<text class="hbar-label" x="{}" y="{}" text-anchor="end">{}</text>{}</g>',
                name,
                ", ".join(parts),
                LABEL_W - 10,
                _n(y + (row_h - ROW_PAD) / 2),
                shown,
                SafeString("".join(bars)),
            )
        )
    return format_html(
        '<svg class="chart mcp-hbars" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        max(len(rows), 1) * row_h,
        label,
        SafeString("".join(marks)),
    )


@register.filter
def diff_lines(diff: str) -> list[dict]:
    """A unified diff as lines with their kind (add, remove, hunk or same), for colouring; the
    `--- before` / `+++ after` header says nothing a person needs."""
    lines = []
    for line in (diff or "").splitlines():
        if line.startswith(("+++ ", "--- ")) and not lines:
            continue
        kind = "hunk" if line.startswith("@@") else {"+": "add", "-": "remove"}.get(line[:1], "same")
        lines.append({"kind": kind, "text": line})
    return lines


@register.filter
def call_args(request) -> str:
    """A call's arguments on one line of JSON (the `arguments` of a `tools/call` request)."""
    if isinstance(request, dict) and isinstance(request.get("arguments"), dict):
        request = request["arguments"]
    if request is None:
        return ""
    return json.dumps(request, ensure_ascii=False, separators=(", ", ": "), default=str)
