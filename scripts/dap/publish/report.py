"""``dap report``: the public report, a self-contained static page drawn from the marts.

Reads the trusted marts (and the quarantine) from the local warehouse and writes
``index.html`` (inline CSS and SVG charts drawn from the figures: no script, no font,
no image, nothing fetched) and ``calls-handled.png`` (the same yearly chart and monthly
trend, for sharing). With an ``s3://`` destination both are uploaded for publishing.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dap.errors import DapError
from dap.lake.storage import require_protected_bucket
from dap.publish.csv_export import csv_bytes
from dap.publish.summary import WAREHOUSE_FILE

if TYPE_CHECKING:
    import boto3

PAGE = "index.html"
CHART = "calls-handled.png"
DAILY_CSV = "calls-handled-daily.csv"
DAILY_COLUMNS = (
    "date",
    "calls_offered",
    "calls_handled",
    "calls_abandoned",
    "calls_handled_pct",
    "service_level",
    "avg_speed_of_answer_seconds",
    "source_file_name",
)
"""The daily figures offered as a download, from trusted.fct_contact_centre_daily."""


@dataclass(frozen=True)
class Year:
    year: int
    offered: int
    handled: int
    handled_pct: float | None
    service_level: float | None
    speed_of_answer: float | None
    days: int
    first_day: date
    last_day: date

    @property
    def is_partial(self) -> bool:
        """True when the figures do not cover the whole calendar year."""
        return (self.first_day, self.last_day) != (date(self.year, 1, 1), date(self.year, 12, 31))

    def change_from(self, previous: Year | None) -> float | None:
        """Year-over-year change of the calls-handled percentage, in points."""
        if previous is None or previous.handled_pct is None or self.handled_pct is None:
            return None
        return round(self.handled_pct - previous.handled_pct, 2)


@dataclass(frozen=True)
class Month:
    start: date
    handled_pct: float | None


@dataclass(frozen=True)
class HeldBack:
    day: date
    reasons: str
    in_marts: bool


@dataclass(frozen=True)
class ReportData:
    years: list[Year]
    months: list[Month]
    quarantined: list[HeldBack]
    missing_days: list[date]
    first_day: date
    last_day: date
    built_at: datetime
    daily: list[tuple[object, ...]]


def read_report_data(lake: Path) -> ReportData:
    import duckdb  # noqa: PLC0415 - installed with dbt-duckdb; only this needs it

    path = lake / WAREHOUSE_FILE
    if not path.is_file():
        raise DapError(f"{path}: no warehouse yet; run `dbt build` first (see README)")
    with duckdb.connect(str(path), read_only=True) as con:
        years = [
            Year(*row)
            for row in con.execute(
                "select year, calls_offered, calls_handled, calls_handled_pct, service_level,"
                " avg_speed_of_answer_seconds, days_reported, first_reported_date,"
                " last_reported_date from trusted.fct_calls_handled_yearly order by year"
            ).fetchall()
        ]
        months = [
            Month(*row)
            for row in con.execute(
                "select month_start_date, calls_handled_pct"
                " from trusted.fct_calls_handled_monthly order by month_start_date"
            ).fetchall()
        ]
        quarantined = [
            HeldBack(*row)
            for row in con.execute(
                "select date,"
                " string_agg(distinct quarantine_reason, '; ' order by quarantine_reason),"
                " bool_and(is_date_in_marts)"
                " from curated.quarantine_daily_metrics where date is not null"
                " group by date order by date"
            ).fetchall()
        ]
        days = [
            d
            for (d,) in con.execute(
                "select date from trusted.fct_contact_centre_daily order by date"
            ).fetchall()
        ]
        daily = [
            tuple(row)
            for row in con.execute(
                "select date, calls_offered, calls_handled, calls_abandoned, calls_handled_pct,"
                " service_level, avg_speed_of_answer_seconds, source_file_name"
                " from trusted.fct_contact_centre_daily order by date"
            ).fetchall()
        ]
        # The build time the marts carry (macros/marts/build_metadata.sql), not a file date.
        (built,) = con.execute(
            "select max(built_at) from trusted.fct_calls_handled_yearly"
        ).fetchone() or (None,)
    if not years or not days:
        raise DapError(f"{path}: the trusted marts are empty; load extracts and run `dbt build`")
    # Missing: no figures in any extract. A day the quarantine held back is listed there.
    present = set(days) | {held.day for held in quarantined}
    span = (days[-1] - days[0]).days + 1
    missing = [day for day in (days[0] + timedelta(n) for n in range(span)) if day not in present]
    built_at = built.replace(tzinfo=UTC) if isinstance(built, datetime) else datetime.now(UTC)
    return ReportData(years, months, quarantined, missing, days[0], days[-1], built_at, daily)


# Charts: SVG drawn from the figures ---------------------------------------------------


def _scale(values: list[float], low: float, high: float) -> tuple[float, float]:
    top, bottom = max(values), min(values)
    pad = max((top - bottom) * 0.15, 0.5)
    return max(low, bottom - pad), min(high, top + pad)


def _axis(start: float, end: float, y: float) -> str:
    return f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" class="axis"/>'


def _bar_chart(years: list[Year]) -> str:
    values = [y.handled_pct for y in years if y.handled_pct is not None]
    if not values:
        return "<p>No figures.</p>"
    width, height, left, bottom = 640, 260, 48, 32
    low, high = _scale(values, 0, 100)
    step = (width - left - 10) / len(years)
    parts = [
        f'<svg role="img" aria-labelledby="yearly-title" viewBox="0 0 {width} {height}" '
        'class="chart" data-chart="yearly">',
        '<title id="yearly-title">Calls handled (%) by year</title>',
        _axis(left, width - 10, height - bottom),
    ]
    for tick in (low, (low + high) / 2, high):
        y = height - bottom - (tick - low) / (high - low) * (height - bottom - 16)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{tick:.1f}</text>'
        )
    for index, year in enumerate(years):
        if year.handled_pct is None:
            continue
        bar = (year.handled_pct - low) / (high - low) * (height - bottom - 16)
        x = left + index * step + step * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - bar:.1f}" width="{step * 0.7:.1f}" '
            f'height="{bar:.1f}" class="bar" data-year="{year.year}" '
            f'data-value="{year.handled_pct:.2f}"><title>{year.year}: '
            f"{year.handled_pct:.2f} %</title></rect>",
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" class="tick" '
            f'text-anchor="middle">{year.year}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line_chart(name: str, title: str, points: list[tuple[str, float]], unit: str) -> str:
    if len(points) < 2:  # a line needs two points
        return "<p>Not enough figures for a trend.</p>"
    width, height, left, bottom = 640, 220, 48, 28
    values = [v for _, v in points]
    low, high = _scale(values, float("-inf"), float("inf"))
    step = (width - left - 10) / (len(points) - 1)
    coords = [
        (left + i * step, height - bottom - (v - low) / (high - low) * (height - bottom - 16))
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<svg role="img" aria-labelledby="{name}-title" viewBox="0 0 {width} {height}" '
        f'class="chart" data-chart="{name}">',
        f'<title id="{name}-title">{html.escape(title)}</title>',
        _axis(left, width - 10, height - bottom),
        f'<polyline points="{path}" class="line" data-points="{len(points)}"/>',
    ]
    for tick in (low, high):
        y = height - bottom - (tick - low) / (high - low) * (height - bottom - 16)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{tick:.1f}{unit}</text>"
        )
    ends = ((points[0][0], coords[0][0], "start"), (points[-1][0], coords[-1][0], "end"))
    for label, x, anchor in ends:
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" class="tick" text-anchor="{anchor}">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# The page -----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:720px;padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#555;font-size:.9rem}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.chart{width:100%;height:auto}.bar{fill:#2b6cb0}.line{fill:none;stroke:#2b6cb0;stroke-width:2}
.axis{stroke:#888}.tick{font-size:13px;fill:#555}.up{color:#22663a}.down{color:#a12d2d}
.scroll{overflow-x:auto}figure{margin:0}figcaption{font-size:.85rem;color:#444}
caption{text-align:left;font-size:.85rem;color:#444;padding-bottom:.3rem}
"""


def _fmt(value: float | None, pattern: str) -> str:
    return "&ndash;" if value is None else format(value, pattern)  # an HTML entity


def render_html(data: ReportData, generated_at: datetime) -> str:
    rows = []
    previous: Year | None = None
    for year in data.years:
        change = year.change_from(previous)
        css = (
            ""
            if change is None
            else (' class="up"' if change > 0 else ' class="down"' if change < 0 else "")
        )
        change_text = "&ndash;" if change is None else f"{change:+.2f}"
        level = None if year.service_level is None else year.service_level * 100
        partial = (
            f'<span class="partial" title="{year.first_day} to {year.last_day} only">*</span>'
            if year.is_partial
            else ""
        )
        rows.append(
            f'<tr data-year="{year.year}"><td>{year.year}{partial}</td>'
            f'<td data-field="calls_offered">{year.offered:,}</td>'
            f'<td data-field="calls_handled">{year.handled:,}</td>'
            f'<td data-field="calls_handled_pct">{_fmt(year.handled_pct, ".2f")}</td>'
            f'<td data-field="change"{css}>{change_text}</td>'
            f'<td data-field="service_level">{_fmt(level, ".2f")}</td>'
            f'<td data-field="avg_speed_of_answer_seconds">{_fmt(year.speed_of_answer, ".2f")}</td>'
            f'<td data-field="days_reported">{year.days}</td></tr>'
        )
        previous = year
    held_back = (
        "".join(
            f'<li data-day="{h.day.isoformat()}">{h.day.isoformat()}: {html.escape(h.reasons)}'
            + (" (an older extract&rsquo;s figures are used)" if h.in_marts else " (day left out)")
            + "</li>"
            for h in data.quarantined
        )
        or "<li>None.</li>"
    )
    missing = (
        "".join(f'<li data-day="{d.isoformat()}">{d.isoformat()}</li>' for d in data.missing_days)
        or "<li>None.</li>"
    )
    monthly = _line_chart(
        "monthly",
        "Calls handled (%) by month",
        [
            (m.start.strftime("%Y-%m"), m.handled_pct)
            for m in data.months
            if m.handled_pct is not None
        ],
        "%",
    )
    service = _line_chart(
        "service-level",
        "Service level (%) by year",
        [(str(y.year), y.service_level * 100) for y in data.years if y.service_level is not None],
        "%",
    )
    answer = _line_chart(
        "speed-of-answer",
        "Average speed of answer (seconds) by year",
        [(str(y.year), y.speed_of_answer) for y in data.years if y.speed_of_answer is not None],
        "s",
    )
    partials = [y for y in data.years if y.is_partial]
    partial_note = (
        '<p class="meta" id="partial-years">* Part of the year only: '
        + "; ".join(f"{y.year}: {y.first_day} to {y.last_day} ({y.days} days)" for y in partials)
        + ". Compare such a year with a full one with care.</p>"
        if partials
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>3-1-1 Contact Centre: calls handled</title><style>{_CSS}</style></head>
<body>
<h1>3-1-1 Contact Centre: calls handled</h1>
<p class="meta">Data from <span data-field="first_day">{data.first_day.isoformat()}</span>
to <span data-field="last_day">{data.last_day.isoformat()}</span>.
Marts built <span data-field="built_at">{data.built_at:%Y-%m-%d %H:%M} UTC</span>;
page generated {generated_at:%Y-%m-%d %H:%M} UTC.
<a href="{DAILY_CSV}" download>Daily figures (CSV)</a>.</p>
<p>The share of calls offered to the 3-1-1 contact centre that an agent handled: the
sum of calls handled over the sum of calls offered, for the year (a ratio of sums, not an
average of daily rates).</p>
<h2>Calls handled by year</h2>
<figure>{_bar_chart(data.years)}
<figcaption>Calls handled (%) by year. The scale starts near the lowest year, not at 0:
the differences are tenths of a point.</figcaption></figure>
<div class="scroll" role="region" aria-label="Calls handled by year, table" tabindex="0">
<table id="yearly"><caption>Calls offered and handled by year; change is in percentage
points from the year before.</caption><thead><tr><th>Year</th><th>Offered</th><th>Handled</th>
<th>Handled %</th><th>Change (pts)</th><th>Service level %</th><th>Avg answer (s)</th>
<th>Days</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>
{partial_note}
<h2>Monthly trend</h2>
<figure>{monthly}<figcaption>Calls handled (%) by month.</figcaption></figure>
<h2>Service level and speed of answer</h2>
<figure>{service}<figcaption>Service level (%): share of calls answered within the
target time, weighted by calls offered.</figcaption></figure>
<figure>{answer}<figcaption>Average speed of answer (seconds), weighted by calls
handled.</figcaption></figure>
<h2>Days held back or missing</h2>
<p>Days whose figures broke a quality rule were held back from these figures:</p>
<ul id="quarantined">{held_back}</ul>
<p>Days with no figures in any extract:</p>
<ul id="missing">{missing}</ul>
<p class="meta">Source: City of Vancouver Open Data, 3-1-1 Contact Centre Metrics.
Contains information licensed under the Open Government Licence &ndash; Vancouver.</p>
</body></html>
"""


def render_png(data: ReportData) -> bytes:
    import matplotlib as mpl  # noqa: PLC0415 - heavy; only the report needs it

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), dpi=100)
    years = [y for y in data.years if y.handled_pct is not None]
    top.bar([str(y.year) for y in years], [y.handled_pct for y in years], color="#2b6cb0")
    values = [y.handled_pct for y in years if y.handled_pct is not None]
    if values:
        top.set_ylim(max(0.0, min(values) - 2), min(100.0, max(values) + 1))
    top.set_title("Calls handled (%) by year (the axis does not start at 0)")
    months = [m for m in data.months if m.handled_pct is not None]
    bottom.plot([m.start for m in months], [m.handled_pct for m in months], color="#2b6cb0")
    bottom.set_title("Calls handled (%) by month")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def write_report(
    lake: Path,
    destination: str,
    *,
    session: boto3.Session | None = None,
    now: datetime | None = None,
    allow_unprotected: bool = False,
) -> list[str]:
    """Render the page and the chart; write them to a folder or upload them to s3://
    (a bucket without default encryption or versioning is refused unless
    ``allow_unprotected``)."""
    data = read_report_data(lake)
    page = render_html(data, now or datetime.now(tz=UTC)).encode("utf-8")
    chart = render_png(data)
    daily = csv_bytes(DAILY_COLUMNS, data.daily)
    files = {
        PAGE: (page, "text/html; charset=utf-8"),
        CHART: (chart, "image/png"),
        DAILY_CSV: (daily, "text/csv; charset=utf-8"),
    }
    if destination.startswith("s3://"):
        import boto3 as boto  # noqa: PLC0415

        bucket, _, prefix = destination.removeprefix("s3://").partition("/")
        s3 = (session or boto.Session()).client("s3")
        if not allow_unprotected:
            require_protected_bucket(s3, bucket)
        written = []
        for name, (body, content_type) in files.items():
            key = f"{prefix.strip('/')}/{name}".lstrip("/")
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            except Exception as error:  # botocore errors share no useful base
                raise DapError(f"s3://{bucket}/{key}: upload failed ({error})") from error
            written.append(f"s3://{bucket}/{key}")
        return written
    out = Path(destination)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (body, _) in files.items():
        temporary = out / f".{name}.tmp"
        temporary.write_bytes(body)
        temporary.replace(out / name)
        written.append(str(out / name))
    return written
