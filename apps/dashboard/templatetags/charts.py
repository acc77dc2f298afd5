"""Server-rendered SVG charts: axis labels, a `<title>` with the exact values on every mark (the
browser shows it on hover), and an empty state that says so in words."""

import math
from datetime import date

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.charts import Column, stacked_bars
from apps.core.charts import svg_number as _n

register = template.Library()


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%".replace(".0%", "%") if whole else "—"


@register.simple_tag
def runs_chart(days: list[dict], label: str = "Runs and failures per day") -> SafeString:
    """Bars of runs per day with the failed part in red; each day's column has a title with its numbers."""
    columns = []
    for i, day in enumerate(days):
        when = date.fromisoformat(day["date"])
        title = (
            f"{when:%a %b} {when.day}: {day['runs']:,} run{'s' if day['runs'] != 1 else ''}, {day['failed']:,} failed"
        )
        if day["runs"]:
            title += f" ({_pct(day['failed'], day['runs'])} error rate)"
        axis = f"{when:%a} {when.day}" if len(days) <= 10 else (f"{when:%b} {when.day}" if i % 5 == 0 else "")
        columns.append(Column(day["runs"], day["failed"], title, axis, date=day["date"]))
    return stacked_bars(columns, label=label, svg_class="chart chart-bars")


DONUT_PARTS = (("passed", "Passed"), ("failed", "Failed"), ("error", "Error"))
RADIUS = 60
CIRCUMFERENCE = 2 * math.pi * RADIUS


@register.simple_tag
def test_health_chart(health: dict) -> SafeString:
    """A donut of passed / failed / error test runs with the pass rate in its middle."""
    judged = sum(health.get(key, 0) for key, _ in DONUT_PARTS)
    if not judged:
        return format_html(
            '<svg class="chart chart-donut is-empty" viewBox="0 0 160 160" role="img" aria-label="No test runs">'
            "<title>No test runs in this period</title>"
            '<circle class="donut-track" cx="80" cy="80" r="{}"></circle>'
            '<text class="donut-value" x="80" y="78" text-anchor="middle">—</text>'
            '<text class="donut-caption" x="80" y="98" text-anchor="middle">no test runs</text></svg>',
            RADIUS,
        )
    offset, arcs = 0.0, []
    for key, label in DONUT_PARTS:
        count = health.get(key, 0)
        if not count:
            continue
        length = CIRCUMFERENCE * count / judged
        arcs.append(
            format_html(
                '<circle class="donut-arc donut-{}" cx="80" cy="80" r="{}" stroke-dasharray="{} {}" '
                'stroke-dashoffset="{}" transform="rotate(-90 80 80)"><title>{}: {} ({})</title></circle>',
                key,
                RADIUS,
                _n(length),
                _n(CIRCUMFERENCE - length),
                _n(-offset),
                label,
                f"{count:,}",
                _pct(count, judged),
            )
        )
        offset += length
    return format_html(
        '<svg class="chart chart-donut" viewBox="0 0 160 160" role="img" aria-label="Test health: {} passed">'
        '<circle class="donut-track" cx="80" cy="80" r="{}"></circle>{}'
        '<text class="donut-value" x="80" y="80" text-anchor="middle">{}</text>'
        '<text class="donut-caption" x="80" y="99" text-anchor="middle">pass rate</text></svg>',
        _pct(health.get("passed", 0), judged),
        RADIUS,
        SafeString("".join(arcs)),
        _pct(health.get("passed", 0), judged),
    )


@register.inclusion_tag("dashboard/_delta.html")
def delta(change: float | None, good: str = "down", points: bool = False) -> dict:
    """↑/↓ against the previous period, green when it moved the good way (`good` is "up", "down" or
    "neither")."""
    if change is None:
        return {"change": None}
    direction = "flat" if round(abs(change) * 100, 1) == 0 else ("up" if change > 0 else "down")
    neutral = direction == "flat" or good == "neither"
    tone = "neutral" if neutral else ("good" if direction == good else "bad")
    size = abs(change) * 100
    text = f"{size:.1f}".removesuffix(".0") + (" pts" if points else "%")
    return {"change": change, "direction": direction, "tone": tone, "text": text}
