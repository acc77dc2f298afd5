"""What every server-rendered SVG chart needs: a round axis top and compact SVG numbers."""

import math


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
