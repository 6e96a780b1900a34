"""``dap report``: the public report, a self-contained static page drawn from the marts.

Reads the trusted marts (and the quarantine) from the local warehouse and writes
``index.html`` (inline CSS and SVG charts drawn from the figures: no script, no font,
no image, nothing fetched; from ``templates/report.html.j2``), ``calls-handled.png``
(the same yearly chart, bars from zero and partial years marked, and monthly trend, for
sharing) and ``calls-handled-daily.csv``
(the daily figures). The page's planning sections (a weekday x month heatmap, the
strain days of the last year, service level against volume) come from the planning
marts (:mod:`dap.publish._planning`); a warehouse without them says so in each section.
The files are written through the :class:`~dap.lake.storage.Lake`
interface, as every other write: atomically to a local folder, or to ``s3://`` with the
bucket check and the KMS key of :func:`~dap.lake.storage.open_lake`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from dap.publish._charts import trend_line, yearly_bars
from dap.publish._planning import HEAT_COLOURS, planning_view, text_colour
from dap.publish._report_data import (
    DAILY_COLUMNS,
    Change,
    HeldBack,
    Month,
    ReportData,
    period_words,
    read_report_data,
    year_over_year,
)
from dap.publish._warehouse import Year
from dap.publish.csv_export import csv_bytes

if TYPE_CHECKING:
    from dap.lake.storage import Lake

__all__ = [
    "CHART",
    "DAILY_COLUMNS",
    "DAILY_CSV",
    "PAGE",
    "Change",
    "HeldBack",
    "Month",
    "ReportData",
    "Year",
    "read_report_data",
    "render_html",
    "render_png",
    "render_report",
    "write_report",
]

PAGE = "index.html"
CHART = "calls-handled.png"
DAILY_CSV = "calls-handled-daily.csv"
TEMPLATE = "report.html.j2"
_DASH = Markup("&ndash;")  # a missing figure
HEAT_STYLES = tuple((colour, text_colour(colour)) for colour in HEAT_COLOURS)
"""The heatmap's shades, each with the text colour that reads best on it."""


@dataclass(frozen=True)
class ReportFile:
    name: str
    data: bytes
    content_type: str


# The page -----------------------------------------------------------------------------


def _fixed(value: float | None, digits: int = 2) -> str:
    return _DASH if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return _DASH if value is None else f"{value:+.2f}"


def _grouped(value: int) -> str:
    return f"{value:,}"


def _calls(value: float | None) -> str:
    """A number of calls that may be a median or a mean: whole, grouped."""
    return _DASH if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    """A share (0 to 1) as a percentage, one decimal."""
    return _DASH if value is None else f"{value * 100:.1f}"


def _signed1(value: float | None) -> str:
    return _DASH if value is None else f"{value:+.1f}"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dap.publish", "templates"),
        autoescape=True,  # every value is escaped unless the template writes it
        undefined=jinja2.StrictUndefined,  # a misspelt name fails, not renders blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        fixed=_fixed,
        signed=_signed,
        grouped=_grouped,
        calls=_calls,
        share=_share,
        signed1=_signed1,
    )
    return environment


def partial_period(year: Year) -> str | None:
    """The part of the year a partial year covers, in words; None for a whole year."""
    return period_words(year.first_day, year.last_day) if year.is_partial else None


def _year_label(year: Year) -> str:
    return f"{year.year}*" if year.is_partial else str(year.year)


def render_html(data: ReportData, generated_at: datetime) -> str:
    months = [(m.start.strftime("%Y-%m"), m.handled_pct) for m in data.months]
    service = [(_year_label(y), y.service_level_pct) for y in data.years]
    answer = [(_year_label(y), y.speed_of_answer) for y in data.years]
    changes = year_over_year(data.years, data.daily)
    charts = {
        "yearly": yearly_bars([(y.year, y.handled_pct, partial_period(y)) for y in data.years]),
        "monthly": trend_line(
            "monthly", "Calls handled (%) by month", _present(months), unit="%", ceiling=100.0
        ),
        "service_level": trend_line(
            "service-level",
            "Service level (%) by year",
            _present(service),
            unit="%",
            ceiling=100.0,
        ),
        "speed_of_answer": trend_line(
            "speed-of-answer",
            "Average speed of answer (seconds) by year",
            _present(answer),
            unit="s",
        ),
    }
    last = data.years[-1] if data.years else None
    planning = planning_view(
        data.planning,
        data.daily,
        last.year if last else data.last_day.year,
        partial_period(last) if last else None,
    )
    template = _environment().get_template(TEMPLATE)
    return template.render(
        data=data,
        generated_at=generated_at,
        daily_csv=DAILY_CSV,
        yearly_rows=[(year, changes.get(year.year)) for year in data.years],
        same_period=[c for c in changes.values() if not c.whole_years],
        partial_years=[(y, partial_period(y)) for y in data.years if y.is_partial],
        charts=charts,
        planning=planning,
        heat_colours=HEAT_STYLES,
    )


def _present(points: list[tuple[str, float | None]]) -> list[tuple[str, float]]:
    return [(label, value) for label, value in points if value is not None]


# The chart, for sharing ---------------------------------------------------------------


def render_png(data: ReportData) -> bytes:
    """The yearly bars (from 0) and the monthly trend (within 0 to 100 %), for sharing;
    partial years are hatched, starred and named under the chart (and in the PNG's
    Description)."""
    import matplotlib as mpl  # noqa: PLC0415 - heavy; only the report needs it

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.6), dpi=100)
    years = [y for y in data.years if y.handled_pct is not None]
    bars = top.bar(
        [_year_label(y) for y in years],
        [y.handled_pct or 0.0 for y in years],
        color="#2b6cb0",
        edgecolor="#2b6cb0",
    )
    for bar, year in zip(bars, years, strict=True):
        if year.is_partial:
            bar.set_facecolor("#a9c6e8")
            bar.set_hatch("///")
    top.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    top.set_ylim(0, 105)  # room for the labels; the ticks stop at 100
    top.set_yticks([0, 25, 50, 75, 100])
    top.tick_params(axis="x", labelsize=8)
    top.set_title("Calls handled (%) by year")
    months = [m for m in data.months if m.handled_pct is not None]
    bottom.plot([m.start for m in months], [m.handled_pct for m in months], color="#2b6cb0")
    values = [m.handled_pct for m in months if m.handled_pct is not None]
    if values:  # within what a share can be: calls handled never exceed calls offered
        pad = max((max(values) - min(values)) * 0.1, 1.0)
        bottom.set_ylim(max(0.0, min(values) - pad), min(100.0, max(values) + pad))
    bottom.set_title("Calls handled (%) by month")
    note = "; ".join(f"{y.year}: {partial_period(y)} only" for y in years if y.is_partial)
    if note:
        figure.text(0.01, 0.01, f"* Part of the year only: {note}.", fontsize=8, color="#333333")
    figure.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    description = "Calls handled (%) by year, bars from 0, and by month." + (
        f" * Part of the year only: {note}." if note else ""
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None, "Description": description})
    plt.close(figure)
    return buffer.getvalue()


# Writing ------------------------------------------------------------------------------


def render_report(data: ReportData, generated_at: datetime) -> list[ReportFile]:
    """The page, the chart and the daily CSV, in the order they are written."""
    return [
        ReportFile(PAGE, render_html(data, generated_at).encode(), "text/html; charset=utf-8"),
        ReportFile(CHART, render_png(data), "image/png"),
        ReportFile(DAILY_CSV, csv_bytes(DAILY_COLUMNS, data.daily), "text/csv; charset=utf-8"),
    ]


def write_report(lake: Path, out: Lake, *, now: datetime | None = None) -> list[str]:
    """Render the report from the local ``lake``'s warehouse and write it to ``out``
    (from :func:`~dap.lake.storage.open_lake`: a folder, or ``s3://bucket/prefix``, which
    refuses a bucket without default encryption or versioning unless opened with
    ``allow_unprotected``, and encrypts with its ``kms_key_id``). Returns where each
    file went. Errors are DapError (LakeError for the writes)."""
    files = render_report(read_report_data(lake), now or datetime.now(tz=UTC))
    out.check_ready()
    root = out.uri.rstrip("/")
    written = []
    for file in files:
        out.write_bytes(file.name, file.data, file.content_type)
        written.append(f"{root}/{file.name}")
    return written
