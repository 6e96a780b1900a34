"""The report's planning sections, read from the planning marts: when volume is high (a
weekday x month profile), the days the centre was under strain, and how service level
moves with volume, each with a one-line reading in plain words drawn from the figures.

A warehouse built before the planning marts existed has none of their tables: each
section then says the table is not built yet (``None`` below), and the rest of the
report renders as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from dap.publish._charts import Scatter, scatter, value_axis

if TYPE_CHECKING:
    from dap.publish._warehouse import Warehouse

PROFILE_TABLE = "trusted.fct_contact_centre_weekday_profile"
STRAIN_TABLE = "trusted.fct_contact_centre_strain_days"
RESPONSE_TABLE = "trusted.fct_contact_centre_volume_response_yearly"
PLANNING_TABLES = (PROFILE_TABLE, STRAIN_TABLE, RESPONSE_TABLE)

PROFILE_QUERY = (
    "select month_of_year, month_name, iso_weekday, weekday_name, days,"
    " calls_offered_median, calls_offered_mean, calls_offered_stddev,"
    " calls_offered_min, calls_offered_max, service_level, calls_abandoned_pct,"
    " first_year, last_year"
    " from trusted.fct_contact_centre_weekday_profile order by month_of_year, iso_weekday"
)
STRAIN_QUERY = (
    "select date, year, weekday_name, calls_offered, baseline_median, robust_z,"
    " service_level, baseline_service_level, avg_speed_of_answer_seconds, calls_abandoned_pct"
    " from trusted.fct_contact_centre_strain_days order by date"
)
RESPONSE_QUERY = (
    "select year, days, calls_offered_mean, service_level,"
    " service_level_slope_per_1000_calls, calls_abandoned_pct_slope_per_1000_calls,"
    " service_level_volume_correlation"
    " from trusted.fct_contact_centre_volume_response_yearly order by year"
)

SCATTER_YEARS = 4
"""How many of the latest years get a scatter (every year gets a row in the table)."""

HEAT_COLOURS = ("#f2f6fb", "#c6d9ee", "#8db3dc", "#4a7fbf", "#1d4f8f")
"""The heatmap's five shades, light (few calls) to dark (many)."""


# What the marts hold ------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileCell:
    """A row of the weekday x month profile: one weekday of one month of the year."""

    month: int
    month_name: str
    weekday: int
    """ISO: 1 is Monday, 7 Sunday."""
    weekday_name: str
    days: int
    median: float | None
    """Calls offered on a typical day (the median over the window's days)."""
    mean: float | None
    stddev: float | None
    low: int | None
    high: int | None
    service_level: float | None
    """A share, 0 to 1, weighted by calls offered."""
    abandoned_pct: float | None
    first_year: int
    last_year: int


@dataclass(frozen=True)
class StrainDay:
    """A day whose calls offered were unusually high for its weekday and season."""

    day: date
    year: int
    weekday_name: str
    offered: int
    typical: float | None
    """The median of the same weekday in the weeks around the day."""
    robust_z: float | None
    service_level: float | None
    """Shares, 0 to 1: the day's, and the same weekdays' around it."""
    typical_service_level: float | None
    speed_of_answer: float | None
    abandoned_pct: float | None


@dataclass(frozen=True)
class VolumeResponse:
    """A year's answer to: how do service level and abandonment move with volume?"""

    year: int
    days: int
    mean_offered: float | None
    service_level: float | None
    service_level_slope: float | None
    """Change of the service level (a share, 0 to 1) for 1,000 more calls in a day;
    None when the year has too few days for a slope."""
    abandoned_slope: float | None
    """Change of calls abandoned (%, in points) for 1,000 more calls in a day."""
    correlation: float | None

    @property
    def service_level_points(self) -> float | None:
        """The service level's slope in percentage points per 1,000 calls."""
        slope = self.service_level_slope
        return None if slope is None else slope * 100


@dataclass(frozen=True)
class Planning:
    """The planning marts' rows; None where this warehouse has not built the mart."""

    profile: list[ProfileCell] | None = None
    strain_days: list[StrainDay] | None = None
    response: list[VolumeResponse] | None = None


def read_planning(warehouse: Warehouse) -> Planning:
    """The planning marts this warehouse has (an older build has none of them)."""
    built = {
        f"{schema}.{name}"
        for schema, name in warehouse.rows(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = 'trusted'"
        )
    }
    return Planning(
        profile=[ProfileCell(*row) for row in warehouse.rows(PROFILE_QUERY)]
        if PROFILE_TABLE in built
        else None,
        strain_days=[StrainDay(*row) for row in warehouse.rows(STRAIN_QUERY)]
        if STRAIN_TABLE in built
        else None,
        response=[VolumeResponse(*row) for row in warehouse.rows(RESPONSE_QUERY)]
        if RESPONSE_TABLE in built
        else None,
    )


def not_built(table: str) -> str:
    return (
        f"Not built yet: this warehouse has no {table} (built by a newer version of the "
        "models; run `dbt build`)."
    )


# Words --------------------------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def calls(value: float) -> str:
    """A number of calls, as the page prints it (whole, grouped)."""
    return f"{value:,.0f}"


def pct(share: float | None) -> str:
    """A share (0 to 1) as a percentage with one decimal (empty when unknown)."""
    return "" if share is None else f"{share * 100:.1f}"


def _years(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}\u2013{last}"


def _points(value: float, lower: str, higher: str) -> str:
    """``9.0 points lower``; ``no lower or higher`` within rounding."""
    if round(abs(value), 1) == 0:
        return f"no {lower} or {higher}"
    return f"{abs(value):.1f} points {lower if value < 0 else higher}"


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return max(("#000000", "#ffffff"), key=lambda text: contrast(text, background))


# The heatmap --------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    cell: ProfileCell
    shade: int | None
    """Index into :data:`HEAT_COLOURS`; None when the cell has no figure."""
    text: str
    title: str


@dataclass(frozen=True)
class HeatRow:
    month: int
    month_name: str
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class LegendStep:
    shade: int
    low: float
    high: float

    @property
    def text(self) -> str:
        return f"{calls(self.low)}\u2013{calls(self.high)}"


@dataclass(frozen=True)
class Heatmap:
    weekdays: tuple[tuple[int, str], ...]
    rows: tuple[HeatRow, ...]
    legend: tuple[LegendStep, ...]
    years: str
    reading: str


def heatmap(profile: Sequence[ProfileCell]) -> Heatmap | None:
    """Months down, weekdays across, each cell the median calls offered, shaded in five
    equal steps from the quietest cell to the busiest. None without any figure."""
    known = [c for c in profile if c.median is not None]
    if not known:
        return None
    low = min(c.median for c in known if c.median is not None)
    high = max(c.median for c in known if c.median is not None)
    steps = len(HEAT_COLOURS)
    width = (high - low) / steps

    def shade(value: float | None) -> int | None:
        if value is None:
            return None
        return 0 if width == 0 else min(int((value - low) / width), steps - 1)

    years = _years(min(c.first_year for c in profile), max(c.last_year for c in profile))
    weekdays = tuple(sorted({(c.weekday, c.weekday_name) for c in profile}))
    rows = []
    for month, month_name in sorted({(c.month, c.month_name) for c in profile}):
        cells = []
        for weekday, _ in weekdays:
            found = [c for c in profile if (c.month, c.weekday) == (month, weekday)]
            if not found:
                continue
            cell = found[0]
            text = "" if cell.median is None else calls(cell.median)
            title = f"{cell.weekday_name}s in {cell.month_name}, {years}: " + (
                "no figures"
                if cell.median is None
                else f"median {text} calls offered over {_plural(cell.days, 'day', 'days')}"
                + (
                    f", from {cell.low:,} to {cell.high:,}"
                    if cell.low is not None and cell.high is not None
                    else ""
                )
                + (
                    f"; service level {pct(cell.service_level)} %"
                    if cell.service_level is not None
                    else ""
                )
            )
            cells.append(HeatCell(cell, shade(cell.median), text, title))
        rows.append(HeatRow(month, month_name, tuple(cells)))
    legend = tuple(
        LegendStep(i, low + i * width, high if i == steps - 1 else low + (i + 1) * width)
        for i in range(steps if width else 1)
    )
    return Heatmap(weekdays, tuple(rows), legend, years, profile_reading(profile))


def profile_reading(profile: Sequence[ProfileCell]) -> str:
    """The busiest weekday and month of the year against the quietest, in a sentence."""
    known = [c for c in profile if c.median is not None]
    if not known:
        return "No figures for a profile yet."
    # The first of equal cells (in month and weekday order) is named.
    busiest = max(known, key=lambda c: c.median or 0.0)
    quietest = min(known, key=lambda c: c.median or 0.0)
    years = _years(min(c.first_year for c in profile), max(c.last_year for c in profile))
    busy, quiet = busiest.median or 0.0, quietest.median or 0.0
    ratio = f", {busy / quiet:.1f}\u00d7" if quiet > 0 else ","
    over = f"In {years}" if "\u2013" not in years else f"Over {years}"
    return (
        f"{over}, {busiest.weekday_name}s in {busiest.month_name} are the busiest: "
        f"{calls(busy)} calls offered on a typical day{ratio} a typical "
        f"{quietest.weekday_name} in {quietest.month_name} ({calls(quiet)})."
    )


# Strain days --------------------------------------------------------------------------


@dataclass(frozen=True)
class StrainView:
    year: int
    period: str | None
    """The part of the year the data covers, for a partial year."""
    days: tuple[StrainDay, ...]
    reading: str


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def strain_view(strain_days: Sequence[StrainDay], year: int, period: str | None) -> StrainView:
    """The strain days of ``year`` (the last year in the data), with the reading."""
    days = tuple(d for d in strain_days if d.year == year)
    return StrainView(year, period, days, strain_reading(days, year, period))


def strain_reading(days: Sequence[StrainDay], year: int, period: str | None) -> str:
    """How many strain days ``year`` had, and their service level against their
    baselines': plain means over the days (each day counts once, as each is one event a
    planner would look at), not weighted by calls."""
    when = f"In {year}" + (f" ({period})" if period else "")
    if not days:
        return (
            f"{when}, no day's calls offered were unusually high for its weekday and "
            "the weeks around it: no strain days."
        )
    count = _plural(len(days), "day was a strain day", "days were strain days")
    # Like with like: only the days with both figures are averaged.
    paired = [
        (d.service_level, d.typical_service_level)
        for d in days
        if d.service_level is not None and d.typical_service_level is not None
    ]
    if not paired:
        return f"{when}, {count}; their service level is not known."
    on_them = sum(s for s, _ in paired) / len(paired)
    around = sum(t for _, t in paired) / len(paired)
    return (
        f"{when}, {count}; on them service level averaged {pct(on_them)} % against "
        f"{pct(around)} % on the same weekdays around them."
    )


# Service level against volume ---------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    year: int
    chart: Scatter
    words: str


@dataclass(frozen=True)
class ResponseView:
    panels: tuple[Panel, ...]
    years: tuple[VolumeResponse, ...]
    reading: str


def slope_words(year: VolumeResponse) -> str:
    """How service level (and abandonment) moved with volume in ``year``, in a sentence."""
    based = f"based on {_plural(year.days, 'day', 'days')}"
    points = year.service_level_points
    if points is None:
        return (
            f"In {year.year}, too few days ({year.days:,}) to say how service level moved "
            "with volume."
        )
    words = (
        f"In {year.year}, each 1,000 more calls in a day went with a service level "
        f"{_points(points, 'lower', 'higher')}"
    )
    if year.abandoned_slope is not None:
        words += f" and abandonment {_points(year.abandoned_slope, 'lower', 'higher')}"
    return f"{words} ({based})."


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def response_view(
    response: Sequence[VolumeResponse], daily: Sequence[Sequence[object]]
) -> ResponseView | None:
    """A scatter per year for the latest :data:`SCATTER_YEARS` years, on shared axes (so
    the panels compare), from the daily figures (``DAILY_COLUMNS`` rows: calls offered
    is the second, service level the sixth); None without any year."""
    if not response:
        return None
    by_year: dict[int, list[tuple[float, float]]] = {}
    for row in daily:
        day, offered, level = row[0], row[1], row[5]
        # Any numeric type: the Athena copy keeps Athena's types (a decimal stays one).
        if isinstance(day, date) and _is_number(offered) and _is_number(level):
            by_year.setdefault(day.year, []).append((float(str(offered)), float(str(level)) * 100))
    latest = [y for y in response if by_year.get(y.year)][-SCATTER_YEARS:]
    panels: list[Panel] = []
    if latest:
        xs = [x for y in latest for x, _ in by_year[y.year]]
        ys = [v for y in latest for _, v in by_year[y.year]]
        x_range = value_axis(xs, 0.0, float("inf"))
        y_range = value_axis(ys, 0.0, 100.0)
        for year in latest:
            chart = scatter(
                f"volume-{year.year}",
                f"{year.year}: service level (%) against calls offered, one dot a day",
                by_year[year.year],
                x_range,
                y_range,
            )
            panels.append(Panel(year.year, chart, slope_words(year)))
    last = response[-1]
    return ResponseView(tuple(panels), tuple(response), slope_words(last))


@dataclass(frozen=True)
class PlanningView:
    """What the template draws: each section's view, or a sentence saying why there is
    none (its mart is not built yet, or has no rows)."""

    heatmap: Heatmap | str
    strain: StrainView | str
    response: ResponseView | str


NO_FIGURES = "No figures yet."


def planning_view(
    planning: Planning, daily: Sequence[Sequence[object]], last_year: int, period: str | None
) -> PlanningView:
    """The three sections; ``last_year`` is the last year in the data (``period`` the part
    of it the data covers when partial), whose strain days are shown."""
    return PlanningView(
        heatmap=not_built(PROFILE_TABLE)
        if planning.profile is None
        else heatmap(planning.profile) or NO_FIGURES,
        strain=not_built(STRAIN_TABLE)
        if planning.strain_days is None
        else strain_view(planning.strain_days, last_year, period),
        response=not_built(RESPONSE_TABLE)
        if planning.response is None
        else response_view(planning.response, daily) or NO_FIGURES,
    )
