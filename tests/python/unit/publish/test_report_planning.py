"""The report's planning sections: a weekday x month heatmap of typical volume, the strain
days of the last year, service level against volume per year; each with a reading in
words drawn from the marts, and each saying so when its mart is not built yet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dap.publish._planning import (
    HEAT_COLOURS,
    SCATTER_YEARS,
    ProfileCell,
    StrainDay,
    VolumeResponse,
    contrast,
    heatmap,
    profile_reading,
    response_view,
    slope_words,
    strain_reading,
    text_colour,
)
from dap.publish.report import read_report_data, render_html

NOW = datetime(2026, 1, 1, 12, 0)
WarehouseMaker = Callable[..., Path]
"""The folder's ``make_warehouse`` fixture (conftest.py)."""


def _page(lake: Path) -> str:
    return render_html(read_report_data(lake), NOW)


def _rows(lake: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


def _section(page: str, heading: str) -> str:
    """The page from the ``<h2>`` named ``heading`` to the next ``<h2>``."""
    found = re.search(rf"<h2[^>]*>{heading}</h2>(.*?)<h2", page, re.DOTALL)
    assert found is not None, heading
    return found[1]


def _reading(page: str, name: str) -> str:
    found = re.search(rf'<p class="reading" id="{name}">([^<]*)</p>', page)
    assert found is not None, name
    return found[1]


def _table(page: str, table_id: str, row_key: str) -> dict[tuple[str, str], str]:
    """{(row's ``row_key`` attribute, cell's data-field): text} of a table."""
    table = re.search(rf'<table id="{table_id}".*?</table>', page, re.DOTALL)
    assert table is not None, table_id
    return {
        (key, name): text
        for key, row in re.findall(rf'<tr {row_key}="([^"]+)">(.*?)</tr>', table[0], re.DOTALL)
        for name, text in re.findall(r'<td data-field="(\w+)"[^>]*>([^<]*)</td>', row)
    }


# --- on the fixture's warehouse: the page shows the marts' figures -------------------


def test_the_heatmap_shows_each_cells_median_and_shades_it(make_warehouse: WarehouseMaker) -> None:
    lake = make_warehouse()
    page = _page(lake)
    table = re.search(r'<table id="weekday-profile".*?</table>', page, re.DOTALL)
    assert table is not None
    shown = {
        (month, weekday): (shade, text)
        for month, row in re.findall(r'<tr data-month="(\d+)">(.*?)</tr>', table[0], re.DOTALL)
        for weekday, shade, text in re.findall(
            r'<td data-weekday="(\d)" class="h(\d)" title="[^"]*">([^<]*)</td>', row
        )
    }
    mart = _rows(
        lake,
        "select month_of_year, iso_weekday, calls_offered_median"
        " from trusted.fct_contact_centre_weekday_profile",
    )
    assert {key: text for key, (_, text) in shown.items()} == {
        (str(m), str(w)): f"{median:,.0f}" for m, w, median in mart
    }
    # The busiest cell is the darkest, the quietest the lightest; more calls, no lighter.
    by_median = sorted(mart, key=lambda row: float(str(row[2])))
    shades = [int(shown[(str(m), str(w))][0]) for m, w, _ in by_median]
    assert shades[0] == 0
    assert shades[-1] == len(HEAT_COLOURS) - 1
    assert shades == sorted(shades)
    assert '<th scope="row">January</th>' in table[0]
    assert '<th scope="col" data-weekday="1"><abbr title="Monday">Mon</abbr></th>' in table[0]
    assert "<caption>Calls offered on a typical day (the\nmedian)" in table[0]
    legend = re.search(r'<p class="legend" id="heat-legend">(.*?)</p>', page, re.DOTALL)
    assert legend is not None
    assert re.findall(r'<span class="h(\d)">', legend[1]) == ["0", "1", "2", "3", "4"]


def test_the_strain_table_lists_the_last_years_strain_days_from_the_mart(
    make_warehouse: WarehouseMaker,
) -> None:
    lake = make_warehouse()
    cells = _table(_page(lake), "strain-days", "data-day")
    mart = _rows(
        lake,
        "select date, weekday_name, calls_offered, baseline_median, service_level,"
        " baseline_service_level, avg_speed_of_answer_seconds, calls_abandoned_pct"
        " from trusted.fct_contact_centre_strain_days where year = 2024",
    )
    expected: dict[tuple[str, str], str] = {}
    for day, weekday, offered, typical, level, typical_level, answer, abandoned in mart:
        key = str(day)
        expected |= {
            (key, "weekday_name"): str(weekday),
            (key, "calls_offered"): f"{offered:,}",
            (key, "baseline_median"): f"{typical:,.0f}",
            (key, "service_level"): f"{level * 100:.1f}",
            (key, "baseline_service_level"): f"{typical_level * 100:.1f}",
            (key, "avg_speed_of_answer_seconds"): f"{answer:.1f}",
            (key, "calls_abandoned_pct"): f"{abandoned:.1f}",
        }
    assert len(mart) == 2
    assert cells == expected  # 2023's strain day is not the last year's: not listed


def test_the_volume_table_gives_every_years_slopes_and_a_dash_for_a_null(
    make_warehouse: WarehouseMaker,
) -> None:
    lake = make_warehouse()
    cells = _table(_page(lake), "volume-response", "data-response-year")
    mart = _rows(
        lake,
        "select year, days, calls_offered_mean, service_level,"
        " service_level_slope_per_1000_calls, calls_abandoned_pct_slope_per_1000_calls,"
        " service_level_volume_correlation"
        " from trusted.fct_contact_centre_volume_response_yearly",
    )
    expected: dict[tuple[str, str], str] = {}
    for year, days, mean, level, slope, abandoned, correlation in mart:
        key = str(year)
        expected |= {
            (key, "days"): f"{days:,}",
            (key, "calls_offered_mean"): f"{mean:,.0f}",
            (key, "service_level"): f"{level * 100:.1f}",
            # The slope of a share (0-1), shown in percentage points.
            (key, "service_level_slope_per_1000_calls"): "&ndash;"
            if slope is None
            else f"{slope * 100:+.1f}",
            (key, "calls_abandoned_pct_slope_per_1000_calls"): "&ndash;"
            if abandoned is None
            else f"{abandoned:+.1f}",
            (key, "service_level_volume_correlation"): "&ndash;"
            if correlation is None
            else f"{correlation:+.2f}",
        }
    assert cells == expected
    assert cells[("2023", "service_level_slope_per_1000_calls")] == "&ndash;"
    assert cells[("2024", "service_level_slope_per_1000_calls")] == "-9.1"


def test_each_section_reads_in_a_sentence_drawn_from_the_data(
    make_warehouse: WarehouseMaker,
) -> None:
    page = _page(make_warehouse())
    # The fixture's busiest cell: Saturdays in January (median 106); quietest: the first
    # cell with the lowest median in calendar order (Sundays in January, 100).
    assert _reading(page, "profile-reading") == (
        "Over 2023\u20132024, Saturdays in January are the busiest: 106 calls offered on a "
        "typical day, 1.1\u00d7 a typical Sunday in January (100)."
    )
    assert _reading(page, "strain-reading") == (
        "In 2024 (January\u2013February), 2 days were strain days; on them service level "
        "averaged 51.5 % against 80.0 % on the same weekdays around them."
    )
    assert _reading(page, "response-reading") == (
        "In 2024, each 1,000 more calls in a day went with a service level 9.1 points lower "
        "and abandonment 2.5 points higher (based on 59 days)."
    )


def test_the_scatter_draws_a_dot_per_day_with_a_text_alternative(
    make_warehouse: WarehouseMaker,
) -> None:
    lake = make_warehouse()
    page = _page(lake)
    for year, days in _rows(
        lake, "select year(date), count(*) from trusted.fct_contact_centre_daily group by 1"
    ):
        svg = re.search(rf'<svg [^>]*data-chart="volume-{year}".*?</svg>', page, re.DOTALL)
        assert svg is not None, year
        assert svg[0].count("<circle ") == days
        assert f'aria-labelledby="volume-{year}-title volume-{year}-words"' in svg[0]
        assert f'<figcaption id="volume-{year}-words">In {year}, ' in page
    assert (
        '<figcaption id="volume-2023-words">In 2023, too few days (60) to say how service '
        "level moved with volume.</figcaption>"
    ) in page


# --- edge cases ----------------------------------------------------------------------


def test_no_strain_days_in_the_last_year_is_said_in_words(make_warehouse: WarehouseMaker) -> None:
    lake = make_warehouse()
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("delete from trusted.fct_contact_centre_strain_days where year = 2024")
    page = _page(lake)
    assert _reading(page, "strain-reading") == (
        "In 2024 (January\u2013February), no day's calls offered were unusually high for its "
        "weekday and the weeks around it: no strain days."
    ).replace("'", "&#39;")
    assert 'id="strain-days"' not in page


def test_a_null_slope_in_the_last_year_is_said_in_words(make_warehouse: WarehouseMaker) -> None:
    lake = make_warehouse()
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute(
            "update trusted.fct_contact_centre_volume_response_yearly"
            " set service_level_slope_per_1000_calls = null,"
            " calls_abandoned_pct_slope_per_1000_calls = null,"
            " service_level_volume_correlation = null, days = 12"
        )
    page = _page(lake)
    assert _reading(page, "response-reading") == (
        "In 2024, too few days (12) to say how service level moved with volume."
    )
    cells = _table(page, "volume-response", "data-response-year")
    assert {text for (_, name), text in cells.items() if "slope" in name} == {"&ndash;"}


def test_an_older_warehouse_without_the_planning_marts_says_they_are_not_built(
    make_warehouse: WarehouseMaker,
) -> None:
    page = _page(make_warehouse(planning=False))
    for heading, table in (
        ("When the centre is busiest", "fct_contact_centre_weekday_profile"),
        ("Days under strain", "fct_contact_centre_strain_days"),
        ("Service level against volume", "fct_contact_centre_volume_response_yearly"),
    ):
        section = _section(page, heading)
        assert f"Not built yet: this warehouse has no trusted.{table}" in section, heading
        assert "<table" not in section
        assert "<svg" not in section
    assert '<table id="yearly">' in page  # the rest of the report is there


def test_planning_marts_with_no_rows_render_without_figures(make_warehouse: WarehouseMaker) -> None:
    lake = make_warehouse()
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        for table in (
            "trusted.fct_contact_centre_weekday_profile",
            "trusted.fct_contact_centre_strain_days",
            "trusted.fct_contact_centre_volume_response_yearly",
        ):
            con.execute(f"delete from {table}")
    page = _page(lake)
    assert '<p id="weekday-profile">No figures yet.</p>' in page
    assert '<p id="volume-response">No figures yet.</p>' in page
    assert "no strain days." in _reading(page, "strain-reading")


# --- the readings and the drawing, on figures made here -------------------------------


def _cell(month: int, weekday: int, median: float | None, **more: object) -> ProfileCell:
    months = {1: "January", 8: "August"}
    weekdays = {1: "Monday", 7: "Sunday"}
    return ProfileCell(
        month=month,
        month_name=months[month],
        weekday=weekday,
        weekday_name=weekdays[weekday],
        days=int(str(more.get("days", 12))),
        median=median,
        mean=median,
        stddev=None,
        low=None,
        high=None,
        service_level=None,
        abandoned_pct=None,
        first_year=int(str(more.get("first_year", 2022))),
        last_year=2024,
    )


def test_the_profile_reading_names_the_busiest_and_the_quietest_cell() -> None:
    cells = [
        _cell(1, 1, 1234.0),
        _cell(1, 7, 900.0),
        _cell(8, 1, 1000.0),
        _cell(8, 7, 771.25),
        _cell(8, 7, None),
    ]
    assert profile_reading(cells) == (
        "Over 2022\u20132024, Mondays in January are the busiest: 1,234 calls offered on a "
        "typical day, 1.6\u00d7 a typical Sunday in August (771)."
    )
    single = [_cell(1, 1, 10.0, first_year=2024), _cell(8, 7, 5.0, first_year=2024)]
    assert profile_reading(single).startswith("In 2024, Mondays in January")
    assert profile_reading([_cell(1, 1, None)]) == "No figures for a profile yet."
    assert heatmap([_cell(1, 1, None)]) is None


def test_equal_cells_share_the_lightest_shade_and_missing_ones_have_none() -> None:
    drawn = heatmap([_cell(1, 1, 50.0), _cell(1, 7, 50.0), _cell(8, 1, None)])
    assert drawn is not None
    shades = [c.shade for row in drawn.rows for c in row.cells]
    assert shades == [0, 0, None]
    assert len(drawn.legend) == 1


def _strain(level: float | None, typical: float | None) -> StrainDay:
    return StrainDay(date(2024, 3, 4), 2024, "Monday", 2000, 1200.0, 4.0, level, typical, 90.0, 8.0)


def test_the_strain_reading_averages_only_days_with_both_service_levels() -> None:
    days = [_strain(0.5, 0.8), _strain(0.6, None), _strain(0.7, 0.6)]
    assert strain_reading(days, 2024, None) == (
        "In 2024, 3 days were strain days; on them service level averaged 60.0 % against "
        "70.0 % on the same weekdays around them."
    )
    assert strain_reading([_strain(0.5, 0.8)], 2024, None).startswith(
        "In 2024, 1 day was a strain day; "
    )
    assert strain_reading([_strain(None, 0.8)], 2024, None) == (
        "In 2024, 1 day was a strain day; their service level is not known."
    )


def _response(year: int, slope: float | None, abandoned: float | None = None) -> VolumeResponse:
    return VolumeResponse(year, 250, 1500.0, 0.75, slope, abandoned, None)


def test_slope_words_say_lower_higher_or_neither() -> None:
    assert slope_words(_response(2024, -0.09)) == (
        "In 2024, each 1,000 more calls in a day went with a service level 9.0 points lower "
        "(based on 250 days)."
    )
    assert "service level 1.2 points higher and abandonment 3.4 points lower" in slope_words(
        _response(2024, 0.012, -3.4)
    )
    assert "a service level no lower or higher (" in slope_words(_response(2024, 0.0001))


def test_scatter_panels_are_the_latest_years_on_shared_axes() -> None:
    years = list(range(2017, 2025))
    daily = [
        (date(year, 1, day), 1000 * (year - 2016) + day, None, None, None, 0.5 + day / 100)
        for year in years
        for day in range(1, 11)
    ]
    view = response_view([_response(y, -0.01) for y in years], daily)
    assert view is not None
    assert [p.year for p in view.panels] == years[-SCATTER_YEARS:]
    assert len(view.years) == len(years)  # every year in the table
    charts = [p.chart for p in view.panels]
    assert len({(c.axis_start, c.axis_end, c.x_ticks, c.y_ticks) for c in charts}) == 1
    for chart in charts:
        assert len(chart.dots) == 10
        xs = [x for x, _ in chart.dots]
        ys = [y for _, y in chart.dots]
        assert chart.axis_start <= min(xs)
        assert max(xs) <= chart.axis_end
        assert chart.top <= min(ys)
        assert max(ys) <= chart.baseline
    # More calls further right, a higher service level further up (a smaller y).
    first = list(charts[0].dots)
    assert first == sorted(first, key=lambda dot: dot[0])
    assert [y for _, y in first] == sorted((y for _, y in first), reverse=True)
    assert response_view([], daily) is None


def test_contrast_follows_wcag_and_every_shade_reads_at_aa() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    for shade in HEAT_COLOURS:
        assert contrast(text_colour(shade), shade) >= 4.5, shade
    assert text_colour(HEAT_COLOURS[0]) == "#000000"
    assert text_colour(HEAT_COLOURS[-1]) == "#ffffff"


def test_the_scatter_takes_the_athena_copys_decimals_too() -> None:
    """The Athena copy keeps Athena's column types: a decimal service level is a dot."""
    daily = [
        (date(2024, 1, 1), 1200, None, None, None, Decimal("0.75")),
        (date(2024, 1, 2), 1500, None, None, None, 0.5),
        (date(2024, 1, 3), 1700, None, None, None, None),  # no service level: no dot
    ]
    view = response_view([_response(2024, -0.01)], daily)
    assert view is not None
    (panel,) = view.panels
    assert len(panel.chart.dots) == 2
