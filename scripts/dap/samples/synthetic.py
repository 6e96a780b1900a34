"""Deterministic synthetic workbooks shaped like the City's 3-1-1 contact centre export.

`write_sample` writes one workbook per calendar year: the earliest year as a legacy `.xls`
(``contact-centre-metrics-2020.xls``), later years as `.xlsx`
(``contact-centre-metrics-2021.xlsx``, ...). Columns are the portal's
``Date, CallsOffered, CallsHandled, CallsAbandoned, AverageSpeedofAnswer, ServiceLevel, BI_ID``;
rows run newest first and ``BI_ID`` numbers them within the file (1 = newest day).

Volumes: weekdays about 900-1,300 calls offered (Mondays busiest), weekends about 300-450,
mild monthly seasonality, a downward drift of about 2 % a year, and fixed-date statutory
holidays as quiet as a Sunday. On busy days (offered high relative to staffing) service
level falls, speed of answer and abandonment rise. About 4 % of calls offered are neither
handled nor abandoned, like the undocumented remainder in the real data.
``ServiceLevel`` is calls answered within 60 s / offered and ``AverageSpeedofAnswer`` is
total wait / handled, so both are genuine ratios.

Quirks planted on purpose (each only where its date or year falls inside the range):

- `MISSING_DAYS` (2021-03-07 and 2023-03-08) have no row at all;
- about 1 day in 250 has CallsHandled + CallsAbandoned > CallsOffered by 1-4 calls
  (real days that a pipeline must keep and flag);
- years before `ROUNDED_BEFORE_YEAR` (2022) carry ASA and ServiceLevel rounded to
  4 decimals, later years full float precision;
- the `TEXT_DATES_YEAR` (2022) workbook stores Date as ISO text, not as Excel dates;
- the `LOWERCASE_HEADER_YEAR` (2023) workbook uses the API's lowercase field names;
- sheet names differ between files (`SHEET_NAMES`);
- the `ABOUT_SHEET_YEAR` (2024) workbook has a second sheet ``About`` with the dataset
  title and licence attribution and no metric columns;
- one hard-rule violation for the quarantine demo: on `PLANTED_HANDLED_EXCEEDS_OFFERED`
  (2023-06-14) CallsHandled has an extra digit typed and far exceeds CallsOffered.

Every day draws from its own generator seeded with ``(seed, date)``, so a day's numbers do
not depend on the requested range. Only IEEE arithmetic (+ - * / round) is used on the
draws, so the values are identical on every platform; the writers make the bytes identical.

`csv_rows_to_workbooks` turns the portal's real CSV export into `.xlsx` workbooks.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dap.errors import DapError
from dap.samples.excel_writer import Cell, write_xls, write_xlsx
from dap.schema import METRIC_COLUMNS

HEADER: tuple[str, ...] = tuple(column.label for column in METRIC_COLUMNS)
"""The export's header labels, in its column order."""
LOWERCASE_HEADER: tuple[str, ...] = tuple(column.raw_name for column in METRIC_COLUMNS)
"""The API's field names, as some downloads carry them."""

MISSING_DAYS: tuple[date, ...] = (date(2021, 3, 7), date(2023, 3, 8))
PLANTED_HANDLED_EXCEEDS_OFFERED = date(2023, 6, 14)
OVERCOUNT_ODDS = 1 / 250
ROUNDED_BEFORE_YEAR = 2022
TEXT_DATES_YEAR = 2022
LOWERCASE_HEADER_YEAR = 2023
ABOUT_SHEET_YEAR = 2024
SHEET_NAMES: dict[int, str] = {
    2020: "Sheet1",
    2021: "3-1-1 Contact Centre Metrics",
    2022: "contact-centre-metrics",
    2023: "Data 2023",
    2024: "3-1-1 Contact Centre Metrics",
}
DEFAULT_SHEET_NAME = "Sheet1"
ATTRIBUTION = (
    "Contains information licensed under the Open Government Licence \N{EN DASH} Vancouver."
)
ABOUT_ROWS: tuple[tuple[str], ...] = (
    ("3-1-1 Contact Centre Metrics",),
    ("City of Vancouver Open Data Portal, dataset 3-1-1-contact-centre-metrics",),
    (ATTRIBUTION,),
)

CSV_STEM = "3-1-1-contact-centre-metrics"
CSV_SHEET_NAME = "3-1-1-contact-centre-metrics"

# Volume model: calls offered = BASE x weekday x month x year level x noise.
BASE_VOLUME = 1080.0
WEEKDAY_FACTOR = (1.17, 1.08, 1.05, 1.02, 0.95, 0.37, 0.32)  # Monday .. Sunday
MONTH_FACTOR = (1.05, 1.01, 1.02, 1.0, 0.98, 0.97, 0.95, 0.95, 1.0, 1.02, 1.03, 0.96)
# Fixed-date statutory holidays (month, day) look like a Sunday.
HOLIDAYS = ((1, 1), (7, 1), (11, 11), (12, 25), (12, 26))
# Staffed capacity (calls a day at which service starts to suffer badly), Monday .. Sunday.
CAPACITY = (1400.0, 1400.0, 1400.0, 1400.0, 1400.0, 560.0, 560.0)


@dataclass(frozen=True)
class SampleFile:
    """One generated workbook and the days it covers."""

    path: Path
    first_date: date
    last_date: date
    rows: int


@dataclass(frozen=True)
class DayMetrics:
    """One day's numbers, before any per-file formatting."""

    day: date
    offered: int
    handled: int
    abandoned: int
    asa: float
    service_level: float


def write_sample(
    out_dir: Path,
    *,
    seed: int = 311,
    start: date = date(2020, 1, 1),
    end: date = date(2024, 9, 30),
) -> list[SampleFile]:
    """Write one workbook per calendar year in [start, end] into ``out_dir``.

    Years with no day left (a range covering only a missing day) get no file.
    """
    if start > end:
        raise DapError(f"sample range is empty: start {start} is after end {end}")
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[SampleFile] = []
    for year in range(start.year, end.year + 1):
        first = max(start, date(year, 1, 1))
        last = min(end, date(year, 12, 31))
        days = [generate_day(seed, d) for d in _days_newest_first(first, last)]
        if not days:
            continue
        legacy = year == start.year
        path = out_dir / f"contact-centre-metrics-{year}.{'xls' if legacy else 'xlsx'}"
        sheets = _year_sheets(year, days)
        if legacy:
            write_xls(path, sheets)
        else:
            write_xlsx(path, sheets)
        files.append(SampleFile(path, days[-1].day, days[0].day, len(days)))
    return files


def generate_day(seed: int, day: date) -> DayMetrics:
    """The synthetic metrics of one day (a pure function of seed and date)."""
    year_rng = random.Random(f"{seed}:year:{day.year}")  # noqa: S311 - synthetic, not secret
    year_level = max(0.6, 1.0 - 0.02 * (day.year - 2020)) * _wobble(year_rng, 0.02)
    staffing = _wobble(year_rng, 0.05)

    rng = random.Random(f"{seed}:day:{day.isoformat()}")  # noqa: S311
    weekday = 6 if (day.month, day.day) in HOLIDAYS else day.weekday()
    expected = BASE_VOLUME * WEEKDAY_FACTOR[weekday] * MONTH_FACTOR[day.month - 1] * year_level
    offered = round(expected * _wobble(rng, 0.08))
    capacity = CAPACITY[weekday] * year_level * staffing * _wobble(rng, 0.05)
    pressure = offered / capacity

    excess = max(0.0, pressure - 0.62)
    target_sl = 0.985 - 3.0 * excess * excess + 0.015 * (_wobble(rng, 1.0) - 1.0)
    target_sl = min(0.995, max(0.55, target_sl))
    miss = 1.0 - target_sl
    target_asa = (5.0 + 1300.0 * miss * miss) * _wobble(rng, 0.15)
    abandoned = round(offered * (0.006 + 0.22 * miss) * _wobble(rng, 0.2))
    remainder = round(offered * 0.04 * _wobble(rng, 0.35))
    handled = offered - abandoned - remainder

    service_level = round(target_sl * offered) / offered
    asa = round(target_asa * handled) / handled
    if rng.random() < OVERCOUNT_ODDS:  # a real-looking day that over-counts by a few calls
        handled = offered - abandoned + rng.randint(1, 4)
    if day == PLANTED_HANDLED_EXCEEDS_OFFERED:  # data-entry error: last digit typed twice
        handled = handled * 10 + handled % 10
    return DayMetrics(day, offered, handled, abandoned, asa, service_level)


def csv_rows_to_workbooks(csv_path: Path, out_dir: Path, *, by_year: bool = True) -> list[Path]:
    """Write the portal's CSV export (``;``-delimited, BOM) as `.xlsx` workbooks.

    With ``by_year`` one workbook per year (``3-1-1-contact-centre-metrics-YYYY.xlsx``),
    otherwise a single ``3-1-1-contact-centre-metrics.xlsx``. Rows keep the CSV's order and
    header labels; Date becomes an Excel date, integers stay ints and decimals floats.
    """
    header, rows = _read_export_csv(csv_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[list[Cell]]] = {}
    for row in rows:
        day = row[0]
        key = str(day.year) if by_year and isinstance(day, date) else ""
        groups.setdefault(key, []).append(row)
    paths: list[Path] = []
    for key in sorted(groups):
        stem = f"{CSV_STEM}-{key}" if key else CSV_STEM
        path = out_dir / f"{stem}.xlsx"
        write_xlsx(path, {CSV_SHEET_NAME: [header, *groups[key]]})
        paths.append(path)
    return paths


def _days_newest_first(first: date, last: date) -> list[date]:
    count = (last - first).days + 1
    days = (last - timedelta(days=i) for i in range(count))
    return [d for d in days if d not in MISSING_DAYS]


def _wobble(rng: random.Random, spread: float) -> float:
    """A factor in [1 - spread, 1 + spread], bell-shaped (mean of three uniforms)."""
    u = rng.random() + rng.random() + rng.random()
    return 1.0 + spread * (u - 1.5) / 1.5


def _year_sheets(year: int, days: Sequence[DayMetrics]) -> dict[str, list[list[Cell]]]:
    header = LOWERCASE_HEADER if year == LOWERCASE_HEADER_YEAR else HEADER
    rounded = year < ROUNDED_BEFORE_YEAR
    rows: list[list[Cell]] = [list(header)]
    for bi_id, m in enumerate(days, start=1):
        day: Cell = m.day.isoformat() if year == TEXT_DATES_YEAR else m.day
        asa = round(m.asa, 4) if rounded else m.asa
        sl = round(m.service_level, 4) if rounded else m.service_level
        rows.append([day, m.offered, m.handled, m.abandoned, asa, sl, bi_id])
    sheets: dict[str, list[list[Cell]]] = {SHEET_NAMES.get(year, DEFAULT_SHEET_NAME): rows}
    if year == ABOUT_SHEET_YEAR:
        sheets["About"] = [list(r) for r in ABOUT_ROWS]
    return sheets


_INT = re.compile(r"[+-]?\d+")


def _read_export_csv(csv_path: Path) -> tuple[list[Cell], list[list[Cell]]]:
    """Header and typed rows of the portal CSV (Date parsed, numbers as int or float)."""
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh, delimiter=";"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DapError(f"{csv_path}: cannot read the CSV export: {exc}") from exc
    if not records or not records[0] or records[0][0].strip().lower() != "date":
        raise DapError(f"{csv_path}: not the portal's CSV export (first column is not Date)")
    header: list[Cell] = [name.strip() for name in records[0]]
    rows: list[list[Cell]] = []
    for line, record in enumerate(records[1:], start=2):
        if not record:
            continue
        if len(record) != len(header):
            raise DapError(f"{csv_path}, line {line}: {len(record)} fields, expected {len(header)}")
        try:
            rows.append([date.fromisoformat(record[0]), *map(_number, record[1:])])
        except ValueError as exc:
            raise DapError(f"{csv_path}, line {line}: {exc}") from exc
    return header, rows


def _number(text: str) -> int | float | None:
    text = text.strip()
    if not text:
        return None
    if _INT.fullmatch(text):
        return int(text)
    return float(text)
