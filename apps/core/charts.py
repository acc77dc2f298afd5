"""What every server-rendered SVG chart needs: a round axis top, compact SVG numbers, and the bar chart
of a total with a part of it in red (runs and failures, calls and errors)."""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 28  # room for the axis labels


def nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least `value` (and at least 4)."""
    if value <= 4:
        return 4
    power = 10 ** math.floor(math.log10(value / 4))
    for step in (1, 2, 2.5, 5, 10):
        top = step * power * 4
        if top >= value:
            return int(top) if top == int(top) else top
    return value  # unreachable


def svg_number(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Column:
    """One bar: `total` tall, its `part` (failures, errors) drawn in red; `title` shows on hover."""

    total: int
    part: int
    title: str
    axis: str = ""  # the label under the bar, if any
    date: str = ""  # an ISO day, as `data-date`, when the column is a day
    href: str = ""  # where a click on the bar goes (what it counts, listed)
    part_href: str = ""  # where a click on the red part goes
    note: str = ""  # a word over the bar (the error rate)


def stacked_bars(
    columns: list[Column], *, label: str, svg_class: str, width=640, height=220, bar_ratio=0.6, bar_max=48, rx=3
) -> SafeString:
    """Bars with a four-step y axis; every column is focusable and titled with its exact numbers."""
    peak = nice_max(max((column.total for column in columns), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(columns), 1)
    bar = min(slot * bar_ratio, bar_max)
    grid = format_html_join(
        "",
        '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
        '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                width - RIGHT,
                svg_number(y),
                svg_number(y),
                LEFT - 8,
                svg_number(y + 3.5),
                f"{round(peak * n / 4):,}",
            )
            for n in range(5)
            for y in [TOP + plot_h - plot_h * n / 4]
        ),
    )
    marks = []
    for index, column in enumerate(columns):
        x = LEFT + slot * index
        total_h, part_h = plot_h * column.total / peak, plot_h * column.part / peak
        bar_x = svg_number(x + (slot - bar) / 2)
        whole = format_html(
            '<rect class="chart-hit" x="{}" y="{}" width="{}" height="{}"></rect>'
            '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="{}"></rect>',
            svg_number(x),
            TOP,
            svg_number(slot),
            plot_h,
            bar_x,
            svg_number(TOP + plot_h - total_h),
            svg_number(bar),
            svg_number(total_h),
            rx,
        )
        part = format_html(
            '<rect class="chart-failed" x="{}" y="{}" width="{}" height="{}" rx="{}"></rect>',
            bar_x,
            svg_number(TOP + plot_h - part_h),
            svg_number(bar),
            svg_number(part_h),
            rx,
        )
        note = format_html(
            '<text class="chart-note" x="{}" y="{}" text-anchor="middle">{}</text>',
            svg_number(x + slot / 2),
            svg_number(TOP + plot_h - total_h - 5),
            column.note,
        )
        marks.append(
            format_html(
                '<g class="chart-col"{}{}><title>{}</title>{}{}{}'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                format_html(' data-date="{}"', column.date) if column.date else "",
                "" if column.href else mark_safe(' tabindex="0"'),  # else its links take the focus
                column.title,
                _linked(whole, column.href, column.title),
                _linked(part, column.part_href, f"{column.title}: the failed ones") if column.part else part,
                note if column.note else "",
                svg_number(x + slot / 2),
                height - 8,
                column.axis,
            )
        )
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}" role="{}" aria-label="{}">{}{}</svg>',
        svg_class,
        width,
        height,
        # an image, unless its bars are links: an image's parts can't be reached, a group's can
        "group" if any(column.href for column in columns) else "img",
        label,
        grid,
        SafeString("".join(marks)),
    )


def _linked(mark: SafeString, href: str, label: str) -> SafeString:
    """A bar (or its part) as a link to what it counts, when it has somewhere to go."""
    if not href:
        return mark
    return format_html('<a class="chart-link" href="{}" aria-label="{}">{}</a>', href, label, mark)


@dataclass(frozen=True)
class Segments:
    """One bar made of parts (e.g. a day's cost by model): `values` per series, in the chart's order."""

    values: tuple[float, ...]
    title: str
    axis: str = ""
    date: str = ""


def segmented_bars(
    columns: list[Segments],
    *,
    label: str,
    svg_class: str,
    tick_label=lambda value: f"{value:,.0f}",
    width=640,
    height=220,
    bar_ratio=0.6,
    bar_max=48,
) -> SafeString:
    """Bars stacked from parts, each part `series-<n>` (coloured by CSS); `tick_label` writes the axis
    numbers (the top may be fractional, e.g. dollars)."""
    peak = _fractional_max(max((sum(column.values) for column in columns), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(columns), 1)
    bar = min(slot * bar_ratio, bar_max)
    grid = format_html_join(
        "",
        '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
        '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (LEFT, width - RIGHT, svg_number(y), svg_number(y), LEFT - 8, svg_number(y + 3.5), tick_label(peak * n / 4))
            for n in range(5)
            for y in [TOP + plot_h - plot_h * n / 4]
        ),
    )
    marks = []
    for index, column in enumerate(columns):
        x, base = LEFT + slot * index, TOP + plot_h
        parts = []
        for series, value in enumerate(column.values):
            if value <= 0:
                continue
            h = plot_h * value / peak
            base -= h
            parts.append(
                format_html(
                    '<rect class="chart-seg series-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                    series,
                    svg_number(x + (slot - bar) / 2),
                    svg_number(base),
                    svg_number(bar),
                    svg_number(h),
                )
            )
        marks.append(
            format_html(
                '<g class="chart-col" tabindex="0"{}><title>{}</title>'
                '<rect class="chart-hit" x="{}" y="{}" width="{}" height="{}"></rect>{}'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                format_html(' data-date="{}"', column.date) if column.date else "",
                column.title,
                svg_number(x),
                TOP,
                svg_number(slot),
                plot_h,
                SafeString("".join(parts)),
                svg_number(x + slot / 2),
                height - 8,
                column.axis,
            )
        )
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        svg_class,
        width,
        height,
        label,
        grid,
        SafeString("".join(marks)),
    )


def _fractional_max(value: float) -> float:
    """The axis top for values that may be fractions: 1, 2, 2.5 or 5 times a power of ten, times four."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value / 4))
    for step in (1, 2, 2.5, 5, 10):
        if step * power * 4 >= value:
            return step * power * 4
    return value
