"""Server-rendered SVG charts: axis labels, a `<title>` with the exact values on every mark (the
browser shows it on hover), and an empty state that says so in words."""

import math
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.charts import Column, Segments, segmented_bars, stacked_bars
from apps.core.charts import svg_number as _n
from apps.core.templatetags.ui import usd

register = template.Library()


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%".replace(".0%", "%") if whole else "—"


@register.simple_tag
def runs_chart(buckets: list[dict], label: str = "Runs and failures") -> SafeString:
    """Bars of runs per day (or hour) with the failed part in red. Each column's title has its
    numbers and error rate, which also shows over the bar where there is room; a click on a bar
    lists its runs, on its red part the failed ones."""
    columns, runs_url = [], reverse("runs:list")
    for i, bucket in enumerate(buckets):
        when, start, end = _bucket_span(bucket)
        name = f"{when:%H}:00" if "hour" in bucket else f"{when:%a %b} {when.day}"
        runs, failed = bucket["runs"], bucket["failed"]
        title = f"{name}: {runs:,} run{'s' if runs != 1 else ''}, {failed:,} failed"
        if runs:
            title += f" ({_pct(failed, runs)} error rate)"
        if "hour" in bucket:
            axis = f"{when:%H}h" if i % 4 == 0 else ""
        else:
            axis = f"{when:%a} {when.day}" if len(buckets) <= 10 else (f"{when:%b} {when.day}" if i % 5 == 0 else "")
        query = urlencode({"started_after": start, "started_before": end})
        columns.append(
            Column(
                runs,
                failed,
                title,
                axis,
                date=bucket.get("date", ""),
                href=f"{runs_url}?{query}" if runs else "",
                part_href=f"{runs_url}?{query}&status=failed" if failed else "",
                note=_pct(failed, runs) if failed and len(buckets) <= 10 else "",
            )
        )
    return stacked_bars(columns, label=label, svg_class="chart chart-bars")


def _bucket_span(bucket: dict) -> tuple[datetime, str, str]:
    """When a bar starts, and the runs list's started_after / started_before that cover it."""
    if "hour" in bucket:
        when = datetime.fromisoformat(bucket["hour"])
        return when, when.isoformat(), (when + timedelta(hours=1)).isoformat()
    day = date.fromisoformat(bucket["date"])
    return day, day.isoformat(), day.isoformat()  # a date alone as started_before includes that day


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


@register.simple_tag
def cost_chart(days: list[dict], label: str = "Cost per day by model") -> SafeString:
    """Bars of cost per day, stacked by model (the top models, then the others), titled with each part."""
    series = []
    for day in days:
        for part in day["models"]:
            if part["model"] not in series and part["model"] != "other":
                series.append(part["model"])
    series.append("other")
    columns = []
    for i, day in enumerate(days):
        when = date.fromisoformat(day["date"])
        by_model = {part["model"]: part["cost_usd"] for part in day["models"]}
        parts = ", ".join(f"{name or 'no model'} {usd(cost)}" for name, cost in by_model.items())
        title = f"{when:%a %b} {when.day}: {usd(day['cost_usd'])}" + (f" ({parts})" if parts else "")
        axis = f"{when:%a} {when.day}" if len(days) <= 10 else (f"{when:%b} {when.day}" if i % 5 == 0 else "")
        values = tuple(float(by_model.get(name, 0)) for name in series)
        columns.append(Segments(values, title, axis, date=day["date"]))
    return segmented_bars(columns, label=label, svg_class="chart chart-bars chart-cost", tick_label=_usd_tick)


@register.simple_tag
def cost_series(days: list[dict]) -> list[str]:
    """The models of the cost chart, in its order (its legend)."""
    names = [part["model"] for day in days for part in day["models"] if part["model"] != "other"]
    ordered = list(dict.fromkeys(names))
    if any(part["model"] == "other" for day in days for part in day["models"]):
        ordered.append("other")
    return ordered


def _usd_tick(value: float) -> str:
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.0f}" if value >= 10 else f"${value:.1f}".replace(".0", "")
    return "$" + f"{value:.6f}".rstrip("0")
