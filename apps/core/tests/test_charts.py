import re

import pytest

from apps.core.charts import Column, nice_max, stacked_bars, svg_number


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (4, 4), (5, 8), (9, 10), (11, 20), (41, 80), (120, 200), (999, 1000), (6.5, 8)]
)
def test_the_axis_top_is_round_and_covers_the_value(value, top):
    assert nice_max(value) == top
    assert nice_max(value) >= value


def test_svg_numbers_are_compact():
    assert [svg_number(v) for v in (3.0, 3.5, 3.14159, 0.004)] == ["3", "3.5", "3.14", "0"]


def test_stacked_bars_draw_each_column_with_its_part_and_title():
    columns = [Column(10, 0, "Mon: 10 runs, 0 failed", "Mon", date="2026-11-23"), Column(20, 5, "Tue <b>", "")]
    svg = str(stacked_bars(columns, label="Runs & failures", svg_class="chart x", height=220))
    assert svg.startswith('<svg class="chart x" viewBox="0 0 640 220" role="img" aria-label="Runs &amp; failures">')
    assert svg.count('<g class="chart-col"') == 2 and 'data-date="2026-11-23"' in svg
    assert "<title>Tue &lt;b&gt;</title>" in svg  # titles are escaped
    heights = [float(h) for h in re.findall(r'class="chart-(?:bar|failed)" [^>]*height="([\d.]+)"', svg)]
    plot = 220 - 12 - 28
    assert heights == [plot * 10 / 20, 0, plot, plot * 5 / 20]  # the axis tops at the highest total
    assert [label for label in re.findall(r'text-anchor="end">([^<]+)<', svg)] == ["0", "5", "10", "15", "20"]


def test_stacked_bars_without_columns_draw_an_empty_axis():
    svg = str(stacked_bars([], label="Nothing", svg_class="chart"))
    assert "chart-col" not in svg and svg.count('class="chart-grid"') == 5
