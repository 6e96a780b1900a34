"""The report read as the public reads it: bars from zero, axes within what a figure can
be, tick labels that fit, exact values on hover, partial years marked (the page and the
PNG), and a year-over-year change of like with like."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from PIL import Image

from dap.publish._charts import _TICK_SIZE, Chart, _text_width, trend_line, value_axis, yearly_bars
from dap.publish._report_data import Month, ReportData, year_over_year
from dap.publish._warehouse import Year
from dap.publish.report import render_html, render_png

NOW = datetime(2026, 1, 1, 12, 0)


def _daily(start: date, end: date, offered: int, handled: int) -> list[tuple[object, ...]]:
    """Rows of DAILY_COLUMNS, the same figures every day."""
    days = (end - start).days + 1
    return [
        (start + timedelta(n), offered, handled, offered - handled, None, 0.8, 30.0, "x.xlsx")
        for n in range(days)
    ]


def _year(daily: list[tuple[object, ...]], year: int) -> Year:
    rows = [r for r in daily if isinstance(r[0], date) and r[0].year == year]
    offered = sum(int(str(r[1])) for r in rows)
    handled = sum(int(str(r[2])) for r in rows)
    first, last = rows[0][0], rows[-1][0]
    assert isinstance(first, date)
    assert isinstance(last, date)
    pct = round(100 * handled / offered, 2)
    return Year(year, offered, handled, pct, 0.8, 30.0, len(rows), first, last)


# 2023 whole: January-September at 90 %, October-December at 50 %; 2024 January-September
# at 95 %. Against the whole of 2023 (79.92 %) 2024 would gain 15.08 points; against the
# same months it gains 5.
DAILY = (
    _daily(date(2023, 1, 1), date(2023, 9, 30), 100, 90)
    + _daily(date(2023, 10, 1), date(2023, 12, 31), 100, 50)
    + _daily(date(2024, 1, 1), date(2024, 9, 30), 100, 95)
)
YEARS = [_year(DAILY, 2023), _year(DAILY, 2024)]


def _data(years: list[Year] = YEARS, daily: list[tuple[object, ...]] = DAILY) -> ReportData:
    months = [Month(date(2024, m, 1), 99.9 if m == 2 else 90.0 + m) for m in range(1, 10)]
    return ReportData(
        years=years,
        months=months,
        quarantined=[],
        missing_days=[],
        first_day=date(2023, 1, 1),
        last_day=date(2024, 9, 30),
        built_at=datetime(2024, 10, 1),
        daily=daily,
    )


def _attribute(tag: str, name: str) -> float:
    found = re.search(rf'\b{name}="([-\d.]+)"', tag)
    assert found is not None, (name, tag)
    return float(found[1])


def _svg(page: str, chart: str) -> str:
    found = re.search(rf'<svg [^>]*data-chart="{chart}".*?</svg>', page, re.DOTALL)
    assert found is not None, chart
    return found[0]


# --- the year-over-year change: like with like ---------------------------------------------


def test_a_partial_year_is_compared_with_the_same_months_of_the_year_before() -> None:
    assert YEARS[0].handled_pct == 79.92
    change = year_over_year(YEARS, DAILY)[2024]
    assert (change.pct, change.previous_pct, change.points) == (95.0, 90.0, 5.0)
    assert change.period == "January\u2013September"
    assert not change.whole_years
    assert change.words == (
        "2024 compares January\u2013September 2024 with January\u2013September 2023: "
        "95.00 % against 90.00 %, +5.00 points."
    )


def test_a_year_after_a_partial_one_is_compared_over_the_days_both_cover() -> None:
    daily = _daily(date(2009, 6, 15), date(2009, 12, 31), 100, 80) + _daily(
        date(2010, 1, 1), date(2010, 12, 31), 100, 90
    )
    years = [_year(daily, 2009), _year(daily, 2010)]
    change = year_over_year(years, daily)[2010]
    assert change.period == "15 June\u201331 December"
    assert (change.pct, change.previous_pct, change.points) == (90.0, 80.0, 10.0)


def test_whole_years_compare_the_marts_figures() -> None:
    daily = _daily(date(2021, 1, 1), date(2022, 12, 31), 100, 90)
    years = [_year(daily, 2021), _year(daily, 2022)]
    change = year_over_year(years, daily)[2022]
    assert change.whole_years
    assert change.points == 0.0
    assert 2021 not in year_over_year(years, daily)  # no year before the first


def test_the_page_shows_the_same_period_change_and_says_so() -> None:
    page = render_html(_data(), NOW)
    row = re.search(r'<tr data-year="2024">.*?</tr>', page, re.DOTALL)
    assert row is not None
    cell = re.search(r'<td data-field="change"[^>]*>([^<]*)</td>', row[0])
    assert cell is not None
    assert cell[1] == "+5.00"
    assert 'data-period="January\u2013September" aria-describedby="same-period"' in page
    assert (
        "2024 compares January\u2013September 2024 with January\u2013September 2023: "
        "95.00 % against 90.00 %, +5.00 points." in page
    )


# --- the charts ------------------------------------------------------------------------


def test_bars_start_from_zero_and_their_length_is_their_value() -> None:
    svg = _svg(render_html(_data(), NOW), "yearly")
    assert _attribute(svg, "data-low") == 0.0
    assert _attribute(svg, "data-high") == 100.0
    bars = re.findall(r"<rect [^>]*>", svg)
    assert len(bars) == 2
    bottoms = {round(_attribute(b, "y") + _attribute(b, "height"), 1) for b in bars}
    assert len(bottoms) == 1  # all on the axis
    scale = {round(_attribute(b, "height") / _attribute(b, "data-value"), 3) for b in bars}
    assert len(scale) == 1  # height proportional to the value: the axis starts at 0


def test_partial_years_are_marked_on_the_bars() -> None:
    svg = _svg(render_html(_data(), NOW), "yearly")
    assert re.search(r'class="bar" data-year="2023"', svg)
    assert re.search(r'class="bar partial" data-year="2024"', svg)
    assert ">2024*</text>" in svg
    assert "<title>2024 (January\u2013September only): 95.00 % handled</title>" in svg


def test_every_bar_and_point_carries_its_exact_value() -> None:
    page = render_html(_data(), NOW)
    yearly = _svg(page, "yearly")
    assert "<title>2023: 79.92 % handled</title>" in yearly
    assert ">79.9</text>" in yearly  # and as a label above the bar
    monthly = _svg(page, "monthly")
    assert len(re.findall(r"<circle [^>]*><title>2024-\d\d: [\d.]+%</title>", monthly)) == 9
    assert "<title>2024-02: 99.90%</title>" in monthly


@pytest.mark.parametrize(
    "values", [[76.43, 97.27], [99.5, 100.0], [100.0, 100.0], [0.0, 3.0], [0.2, 0.4]]
)
def test_a_percentage_axis_stays_within_0_and_100(values: list[float]) -> None:
    low, high, ticks = value_axis(values, 0.0, 100.0)
    assert 0.0 <= low <= min(values)
    assert max(values) <= high <= 100.0
    assert ticks[0] == low
    assert ticks[-1] == high
    assert ticks == sorted(set(ticks))


def _tick_labels_fit(chart: Chart) -> bool:
    return all(t.label.x - _text_width(t.label.text, _TICK_SIZE) >= 0 for t in chart.ticks)


def test_the_monthly_axis_stops_at_100_and_its_labels_are_not_clipped() -> None:
    # The real data's months run from 76.43 to 97.27 %: the axis used to reach 100.4 %,
    # printed as "00.4%" past the chart's left edge.
    points = [("2009-06", 76.43), ("2017-12", 97.27), ("2024-09", 92.86)]
    chart = trend_line("monthly", "Calls handled (%) by month", points, "%", ceiling=100.0)
    assert chart is not None
    assert chart.high == 100.0
    assert chart.ticks[-1].label.text == "100%"
    assert _tick_labels_fit(chart)
    bars = yearly_bars([(2023, 94.19, None), (2024, 92.86, "January\u2013September")])
    assert bars is not None
    assert _tick_labels_fit(bars)


def test_the_page_draws_no_axis_past_100_percent() -> None:
    page = render_html(_data(), NOW)
    for chart in ("yearly", "monthly", "service-level"):
        assert _attribute(_svg(page, chart), "data-high") <= 100.0, chart


# --- the PNG ---------------------------------------------------------------------------


def test_the_png_marks_partial_years_and_starts_bars_at_zero() -> None:
    png = Image.open(io.BytesIO(render_png(_data())))
    description = png.info["Description"]
    assert "bars from 0" in description
    assert "* Part of the year only: 2024: January\u2013September only." in description
