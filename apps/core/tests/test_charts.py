import pytest

from apps.core.charts import nice_max, svg_number


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (4, 4), (5, 8), (9, 10), (11, 20), (41, 80), (120, 200), (999, 1000), (6.5, 8)]
)
def test_the_axis_top_is_round_and_covers_the_value(value, top):
    assert nice_max(value) == top
    assert nice_max(value) >= value


def test_svg_numbers_are_compact():
    assert [svg_number(v) for v in (3.0, 3.5, 3.14159, 0.004)] == ["3", "3.5", "3.14", "0"]
