"""The report's charts as geometry: where each bar, line, point, tick and label goes.

The SVG itself is drawn by the ``chart`` macro of ``templates/report.html.j2`` from these
figures; nothing here writes markup.

What a reader can rely on: bars start at zero; an axis stays within what the figure can be
(a share of calls handled runs from 0 to 100 %: calls handled never exceed calls offered,
a rule the quality models enforce); every tick label fits in the margin left for it; every
bar and point carries its exact value (a ``<title>``, shown on hover and read by screen
readers), and bars their value as a label too where it fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_WIDTH = 640
_RIGHT = 12
_TOP = 24  # room for the value above the tallest bar
_TICK_SIZE = 13.0
_LABEL_SIZE = 11.0
"""Font sizes (px) of the ticks and of the bars' value and year labels (the page's CSS)."""
_EM = {".": 0.35, "%": 1.0, "*": 0.55, " ": 0.35}
"""Character widths in em, a little over DejaVu Sans' (among the widest sans-serif faces);
0.7 for any other character (digits are 0.64 there), so that an estimate never falls
short."""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str
    """SVG text-anchor: start, middle or end."""


@dataclass(frozen=True)
class Tick:
    y: float
    label: Label


@dataclass(frozen=True)
class Bar:
    year: int
    value: float
    x: float
    y: float
    width: float
    height: float
    label: Label
    """The year, under the bar (with ``*`` for a partial year)."""
    value_label: Label | None
    """The value, above the bar; None where it would not fit."""
    partial: bool
    title: str
    """The exact value, in words (the bar's ``<title>``)."""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Chart:
    name: str
    """The chart's ``data-chart``, and its title's id (``<name>-title``)."""
    title: str
    height: int
    baseline: float
    """The y of the horizontal axis."""
    ticks: tuple[Tick, ...]
    """Values along the left edge, with a grid line each."""
    low: float
    high: float
    """The value axis' range."""
    axis_start: float
    """The x where the plot starts: the tick labels' margin."""
    bars: tuple[Bar, ...] = ()
    line: str = ""
    """A polyline's points, ``x,y x,y ...``; empty for a bar chart."""
    points: tuple[Point, ...] = ()
    ends: tuple[Label, ...] = ()
    """The first and last point's labels, under a line."""
    width: int = _WIDTH
    axis_end: float = _WIDTH - _RIGHT


def _nice_step(span: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` ticks."""
    raw = span / count if span > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def value_axis(
    values: list[float], floor: float, ceiling: float, *, from_zero: bool = False
) -> tuple[float, float, list[float]]:
    """(low, high, ticks): a range on round numbers around ``values``, never outside
    ``floor`` and ``ceiling``; from ``floor`` when ``from_zero`` (a bar's length is its
    value)."""
    low, high = (floor if from_zero else min(values)), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    step = _nice_step(high - low)
    low = max(floor, math.floor(low / step) * step)
    high = min(ceiling, math.ceil(high / step) * step)
    if high - low < 1e-9:  # a value at the ceiling (or floor): one step inward
        low = max(floor, high - step)
    count = round((high - low) / step)
    ticks = [low + i * step for i in range(count + 1)]
    if ticks[-1] < high - 1e-9:  # the range was cut by the ceiling between two steps
        ticks.append(high)
    return low, high, ticks


def _tick_text(value: float, unit: str) -> str:
    return f"{value:.0f}{unit}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}{unit}"


def _ticks(
    ticks: list[float], low: float, high: float, baseline: float, unit: str
) -> tuple[float, tuple[Tick, ...]]:
    """The plot's left edge (wide enough for the longest label) and the ticks."""
    texts = [_tick_text(t, unit) for t in ticks]
    left = 12 + max(_text_width(t, _TICK_SIZE) for t in texts)
    found = []
    for value, text in zip(ticks, texts, strict=True):
        y = baseline - (value - low) / (high - low) * (baseline - _TOP)
        found.append(Tick(y, Label(left - 6, y + 4, text, "end")))
    return left, tuple(found)


def _text_width(text: str, size: float) -> float:
    """An upper estimate of the text's width in px at ``size``."""
    return size * sum(_EM.get(c, 0.7) for c in text)


def yearly_bars(years: list[tuple[int, float | None, str | None]]) -> Chart | None:
    """Calls handled (%) by year, one bar each, from 0 to 100 %; ``years`` are
    ``(year, percentage, partial)`` where ``partial`` says which part of the year the
    figures cover (None for a whole year). None when no year has the figure."""
    values = [pct for _, pct, _ in years if pct is not None]
    if not values:
        return None
    height, baseline = 280, 280 - 32
    low, high, ticks = value_axis(values, 0.0, 100.0, from_zero=True)
    left, tick_marks = _ticks(ticks, low, high, baseline, "%")
    step = (_WIDTH - left - _RIGHT) / len(years)
    bars = []
    for index, (year, pct, partial) in enumerate(years):
        if pct is None:
            continue
        size = (pct - low) / (high - low) * (baseline - _TOP)
        x, width = left + index * step + step * 0.15, step * 0.7
        middle = x + width / 2
        name = f"{year}*" if partial else str(year)
        text = f"{pct:.1f}"
        fits = step >= _text_width(text, _LABEL_SIZE) + 2
        bars.append(
            Bar(
                year=year,
                value=pct,
                x=x,
                y=baseline - size,
                width=width,
                height=size,
                label=Label(middle, baseline + 16, name, "middle"),
                value_label=Label(middle, baseline - size - 5, text, "middle") if fits else None,
                partial=partial is not None,
                title=f"{year}{f' ({partial} only)' if partial else ''}: {pct:.2f} % handled",
            )
        )
    return Chart(
        name="yearly",
        title="Calls handled (%) by year",
        height=height,
        baseline=baseline,
        ticks=tick_marks,
        low=low,
        high=high,
        axis_start=left,
        bars=tuple(bars),
    )


def trend_line(
    name: str,
    title: str,
    points: list[tuple[str, float]],
    unit: str,
    *,
    floor: float = 0.0,
    ceiling: float = math.inf,
) -> Chart | None:
    """A line through ``(label, value)`` points, labelled at both ends, its axis within
    ``floor`` and ``ceiling`` (100 for a percentage); None with fewer than two points."""
    if len(points) < 2:
        return None
    height, baseline = 220, 220 - 28
    low, high, ticks = value_axis([v for _, v in points], floor, ceiling)
    left, tick_marks = _ticks(ticks, low, high, baseline, unit)
    step = (_WIDTH - left - _RIGHT) / (len(points) - 1)
    coords = [
        (left + i * step, baseline - (v - low) / (high - low) * (baseline - _TOP))
        for i, (_, v) in enumerate(points)
    ]
    spaced = "" if unit == "%" else " "
    return Chart(
        name=name,
        title=title,
        height=height,
        baseline=baseline,
        ticks=tick_marks,
        low=low,
        high=high,
        axis_start=left,
        line=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
        points=tuple(
            Point(x, y, f"{label}: {value:.2f}{spaced}{unit}")
            for (x, y), (label, value) in zip(coords, points, strict=True)
        ),
        ends=(
            Label(coords[0][0], height - 8, points[0][0], "start"),
            Label(coords[-1][0], height - 8, points[-1][0], "end"),
        ),
    )


# Scatter plots ------------------------------------------------------------------------

_SCATTER_WIDTH = 320
_SCATTER_HEIGHT = 250
_SCATTER_TOP = 26  # the y axis' name above the plot
_SCATTER_BOTTOM = 44  # the x ticks, and the x axis' name under them

Axis = tuple[float, float, list[float]]
"""(low, high, ticks), as :func:`value_axis` gives them."""


@dataclass(frozen=True)
class Scatter:
    """One dot per (x, y), on axes given by the caller (shared between small multiples,
    so that panels side by side compare). Unlike a bar or a line's point, a dot carries
    no ``<title>``: a year has hundreds; the figures behind the chart are in words beside
    it (its text alternative) and in a table."""

    name: str
    """The chart's ``data-chart``, and its title's id (``<name>-title``)."""
    title: str
    dots: tuple[tuple[float, float], ...]
    """Where each dot goes, in the drawing's coordinates."""
    x_ticks: tuple[Label, ...]
    y_ticks: tuple[Tick, ...]
    x_grid: tuple[float, ...]
    x_name: Label
    y_name: Label
    axis_start: float
    axis_end: float
    baseline: float
    top: float
    width: int = _SCATTER_WIDTH
    height: int = _SCATTER_HEIGHT


def scatter(
    name: str,
    title: str,
    points: list[tuple[float, float]],
    x_axis: Axis,
    y_axis: Axis,
    *,
    x_label: str = "calls offered",
    y_label: str = "service level",
    y_unit: str = "%",
) -> Scatter:
    """Calls offered across, service level (%) up, by default."""
    x_low, x_high, x_ticks = x_axis
    y_low, y_high, y_ticks = y_axis
    baseline = float(_SCATTER_HEIGHT - _SCATTER_BOTTOM)
    texts = [_tick_text(t, y_unit) for t in y_ticks]
    left = 12 + max(_text_width(t, _TICK_SIZE) for t in texts)
    right = _SCATTER_WIDTH - 8 - _text_width(f"{x_ticks[-1]:,.0f}", _TICK_SIZE) / 2
    x_span = (x_high - x_low) or 1.0
    y_span = (y_high - y_low) or 1.0

    def x_at(value: float) -> float:
        return left + (value - x_low) / x_span * (right - left)

    def y_at(value: float) -> float:
        return baseline - (value - y_low) / y_span * (baseline - _SCATTER_TOP)

    return Scatter(
        name=name,
        title=title,
        dots=tuple((x_at(x), y_at(y)) for x, y in points),
        x_ticks=tuple(Label(x_at(t), baseline + 17, f"{t:,.0f}", "middle") for t in x_ticks),
        y_ticks=tuple(
            Tick(y_at(t), Label(left - 6, y_at(t) + 4, text, "end"))
            for t, text in zip(y_ticks, texts, strict=True)
        ),
        x_grid=tuple(x_at(t) for t in x_ticks),
        x_name=Label((left + right) / 2, _SCATTER_HEIGHT - 6, x_label, "middle"),
        y_name=Label(left - 6, _SCATTER_TOP - 12, y_label, "start"),
        axis_start=left,
        axis_end=right,
        baseline=baseline,
        top=_SCATTER_TOP,
    )
