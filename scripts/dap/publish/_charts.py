"""The report's charts as geometry: where each bar, line, tick and label goes.

The SVG itself is drawn by the ``chart`` macro of ``templates/report.html.j2`` from these
figures; nothing here writes markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from dap.publish._warehouse import Year

_WIDTH = 640
_LEFT = 48  # room for the value ticks
_RIGHT = 10
_TOP = 16


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str
    """SVG text-anchor: start, middle or end."""


@dataclass(frozen=True)
class Bar:
    year: int
    value: float
    x: float
    y: float
    width: float
    height: float
    label: Label
    """The year, under the bar."""


@dataclass(frozen=True)
class Chart:
    name: str
    """The chart's ``data-chart``, and its title's id (``<name>-title``)."""
    title: str
    height: int
    baseline: float
    """The y of the horizontal axis."""
    ticks: tuple[Label, ...]
    """Values along the left edge."""
    bars: tuple[Bar, ...] = ()
    line: str = ""
    """A polyline's points, ``x,y x,y ...``; empty for a bar chart."""
    points: int = 0
    ends: tuple[Label, ...] = ()
    """The first and last point's labels, under a line."""
    width: int = _WIDTH
    axis_start: float = _LEFT
    axis_end: float = _WIDTH - _RIGHT


def _scale(values: list[float], low: float, high: float) -> tuple[float, float]:
    """A value range around ``values``, padded, within ``low`` and ``high``."""
    top, bottom = max(values), min(values)
    pad = max((top - bottom) * 0.15, 0.5)
    return max(low, bottom - pad), min(high, top + pad)


def _tick(value: float, low: float, high: float, baseline: float, unit: str = "") -> Label:
    y = baseline - (value - low) / (high - low) * (baseline - _TOP)
    return Label(_LEFT - 6, y + 4, f"{value:.1f}{unit}", "end")


def yearly_bars(years: list[Year]) -> Chart | None:
    """Calls handled (%) by year, one bar each; None when no year has the figure.
    The scale starts near the lowest year, not at 0: the differences are small."""
    values = [y.handled_pct for y in years if y.handled_pct is not None]
    if not values:
        return None
    height, baseline = 260, 260 - 32
    low, high = _scale(values, 0, 100)
    step = (_WIDTH - _LEFT - _RIGHT) / len(years)
    bars = []
    for index, year in enumerate(years):
        if year.handled_pct is None:
            continue
        size = (year.handled_pct - low) / (high - low) * (baseline - _TOP)
        x = _LEFT + index * step + step * 0.15
        label = Label(x + step * 0.35, baseline + 16, str(year.year), "middle")
        bars.append(Bar(year.year, year.handled_pct, x, baseline - size, step * 0.7, size, label))
    return Chart(
        name="yearly",
        title="Calls handled (%) by year",
        height=height,
        baseline=baseline,
        ticks=tuple(_tick(t, low, high, baseline) for t in (low, (low + high) / 2, high)),
        bars=tuple(bars),
    )


def trend_line(name: str, title: str, points: list[tuple[str, float]], unit: str) -> Chart | None:
    """A line through ``(label, value)`` points, labelled at both ends; None with fewer
    than two points."""
    if len(points) < 2:
        return None
    height, baseline = 220, 220 - 28
    low, high = _scale([v for _, v in points], float("-inf"), float("inf"))
    step = (_WIDTH - _LEFT - _RIGHT) / (len(points) - 1)
    coords = [
        (_LEFT + i * step, baseline - (v - low) / (high - low) * (baseline - _TOP))
        for i, (_, v) in enumerate(points)
    ]
    return Chart(
        name=name,
        title=title,
        height=height,
        baseline=baseline,
        ticks=tuple(_tick(t, low, high, baseline, unit) for t in (low, high)),
        line=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
        points=len(points),
        ends=(
            Label(coords[0][0], height - 8, points[0][0], "start"),
            Label(coords[-1][0], height - 8, points[-1][0], "end"),
        ),
    )
