"""Files made the way real spreadsheet tools make them -> dap load -> dbt build -> the marts.

Each case of :data:`CASES` is one file (written by ``testkit.realtools`` the way one class
of tool writes it) and the daily figures it states. The cases' days fall in months no
other case has days in (each of the cases here has a year of its own, in March or
November), so all of them load into one lake with one ``dap load`` and one ``dbt build``;
then, per case, the trusted daily mart must hold exactly the case's days in its months
with their figures, the monthly mart each month's sums and calls-handled percentage (100 x
handled / offered over the month's sums, 2 decimals, half up), and the quarantine only the
rows the case says it holds back. No day in the marts may come from no case.

To add a case, append a :class:`~testkit.realtools.CorpusCase` to :data:`CASES` (or
``CorpusCase.from_figures(...)`` with a ``testkit.tricky_cells`` book's file and figures)
whose days fall in months no other case uses, from January 2009 (the service's first
month) to before today (earlier or later days are quarantined), with a file name of its
own. A file the load must refuse cannot join: it would stop the load of every case. A
class the loader misreads today gets ``xfail="why"``: the test is then
``xfail(strict=True)``, and fixing the loader turns it into a failure to remove the mark.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import cast

import duckdb
import pytest

from testkit.realtools import (
    DATE_STYLE,
    STRICT,
    CorpusCase,
    CsvDialect,
    Day,
    days_of,
    excel97_xls,
    excel_xlsx,
    google_sheets_xlsx,
    libreoffice_ods,
    libreoffice_xlsx,
    prefixed_xlsx,
    spreadsheet_csv,
    streamed_xlsx,
    strict_xlsx,
    text_figures_xlsx,
)
from testkit.support import REPO_ROOT, DbtResult, run_dap, run_dbt_cli
from testkit.tricky_cells import book_1904, duration_book, odd_headers_book

pytestmark = pytest.mark.dbt

BUILD_ARGS = ("build", "--exclude", "test_type:unit")
"""dbt build without the project's unit tests, which do not depend on the lake."""
FIGURE_TOLERANCE = 1e-9


def _with_a_day_nobody_hung_up(days: tuple[Day, ...], index: int) -> tuple[Day, ...]:
    """``days`` with day ``index`` fully handled (handled = offered, abandoned 0): equal
    adjacent values, which LibreOffice writes as one repeated cell."""
    day = days[index]
    return (*days[:index], replace(day, handled=day.offered, abandoned=0), *days[index + 1 :])


def _cases() -> list[CorpusCase]:
    ods_days = _with_a_day_nobody_hung_up(days_of(2017), 1)
    excel_csv = CsvDialect(bom=True, thousands=True, percent=True)
    libreoffice_csv = CsvDialect(delimiter=";", line_end="\n", title="Daily figures")
    excel_sep_csv = CsvDialect(delimiter=";", bom=True, percent=True, sep_line=True)
    windows_csv = CsvDialect(encoding="cp1252", title="Métriques \u2013 centre d'appels 3-1-1")
    return [
        CorpusCase(
            "libreoffice_xlsx",
            "libreoffice-calc.xlsx",
            libreoffice_xlsx(days_of(2010)),
            days_of(2010),
            notes="rich-text header runs, preserved spaces, t=str and t=n formula results",
        ),
        CorpusCase(
            "streamed_inline_strings",
            "streamed-inline.xlsx",
            streamed_xlsx(days_of(2011)),
            days_of(2011),
            notes="inlineStr (one in rich-text runs), rows and cells without r=, spans, "
            "ragged rows, an empty row",
        ),
        CorpusCase(
            "google_sheets_xlsx",
            "google-sheets.xlsx",
            google_sheets_xlsx(days_of(2012)),
            days_of(2012),
            notes="custom number formats, yyyy-mm-dd dates, 0.85 under 0%",
        ),
        CorpusCase(
            "strict_ooxml",
            "excel-strict.xlsx",
            strict_xlsx(days_of(2013)),
            days_of(2013),
            notes="purl.oclc.org namespaces, conformance=strict",
        ),
        CorpusCase(
            "strict_ooxml_iso_dates",
            "excel-strict-iso-dates.xlsx",
            strict_xlsx(days_of(2014), iso_dates=True),
            days_of(2014),
            notes='dates as ISO 8601 in t="d" cells',
        ),
        CorpusCase(
            "prefixed_tags",
            "openxml-sdk.xlsx",
            prefixed_xlsx(days_of(2015)),
            days_of(2015),
            notes="<x:worksheet xmlns:x=...>, <x:row>, <x:c>, <x:si>",
        ),
        CorpusCase(
            "prefixed_strict",
            "prefixed-strict.xlsx",
            prefixed_xlsx(days_of(2016), prefix="ns0", ns=STRICT),
            days_of(2016),
            notes="Strict namespaces and ns0: prefixes (what ElementTree writes)",
        ),
        CorpusCase(
            "libreoffice_ods",
            "libreoffice-calc.ods",
            libreoffice_ods(ods_days),
            ods_days,
            notes="date-value, percentage, columns and rows repeated, an empty row",
        ),
        CorpusCase(
            "excel97_xls",
            "excel-97.xls",
            excel97_xls(days_of(2018)),
            days_of(2018),
            notes="BIFF8 with yyyy-mm-dd, #,##0 and 0% formats, a notes sheet first",
        ),
        CorpusCase(
            "excel_csv_utf8",
            "excel-csv-utf8.csv",
            spreadsheet_csv(days_of(2019), excel_csv),
            days_of(2019),
            notes='byte-order mark, CRLF, "1,037" thousands, 85%',
        ),
        CorpusCase(
            "libreoffice_csv_semicolon",
            "libreoffice-semicolon.csv",
            spreadsheet_csv(days_of(2020), libreoffice_csv),
            days_of(2020),
            notes="; delimited, LF, a title row above the header",
        ),
        CorpusCase(
            "excel_csv_windows_1252",
            "excel-csv-windows.csv",
            spreadsheet_csv(days_of(2021), windows_csv),
            days_of(2021),
            notes="Windows-1252 text in a title row, CRLF",
        ),
        CorpusCase(
            "libreoffice_ods_headed",
            "libreoffice-calc-headed.ods",
            libreoffice_ods(days_of(2022), headed=True),
            days_of(2022),
            notes="merged title row, covered cells, <text:s/> and <text:span> in headers, "
            "table:formula",
        ),
        CorpusCase(
            "excel_365_xlsx",
            "excel-365.xlsx",
            excel_xlsx(days_of(2023)),
            days_of(2023),
            notes="x14ac rows, [$-F800] long dates, shared formulas, 17-digit floats, "
            "a helper column without a header, <rPh> and _x000D_ in headers",
        ),
        CorpusCase(
            "excel_table_total_row",
            "excel-table-total.xlsx",
            excel_xlsx(days_of(2025), date_format=DATE_STYLE, total_row=True),
            days_of(2025),
            held_back=(8,),
            notes='a "Total" row of SUBTOTAL formulas under the data',
        ),
        CorpusCase(
            "excel_csv_sep_line",
            "excel-sep-line.csv",
            spreadsheet_csv(days_of(2024), excel_sep_csv),
            days_of(2024),
            notes="Excel's sep=; first line, byte-order mark, ; delimited, 85%",
        ),
        CorpusCase(
            "figures_stored_as_text",
            "text-figures.xlsx",
            text_figures_xlsx(days_of(2009, month=11)),
            days_of(2009, month=11),
            notes='every value a shared string as displayed: "1,037", "18.25", "85%"',
        ),
        *_tricky_cases(),
    ]


def _tricky_cases() -> list[CorpusCase]:
    """Cells made the way tools and habits make them (``testkit.tricky_cells``): the 1904
    date system, speed of answer as durations, odd headers; each in months of its own."""
    books = [
        ("1904_serials_xlsx", book_1904("xlsx", first=date(2018, 6, 1))),
        ("1904_serials_xls", book_1904("xls", first=date(2018, 7, 1))),
        ("1904_serials_ods", book_1904("ods", first=date(2018, 8, 1))),
        ("1904_date_cells_xlsx", book_1904("xlsx", first=date(2018, 9, 1), date_cells="date")),
        ("speed_as_duration", duration_book("[h]:mm:ss", first=date(2019, 6, 1))),
        ("speed_as_time_of_day", duration_book("h:mm:ss", first=date(2019, 7, 1))),
        ("speed_as_duration_text_csv", duration_book("text", first=date(2019, 8, 1))),
        ("odd_headers", odd_headers_book(first=date(2019, 9, 1))),
    ]
    return [
        CorpusCase.from_figures(name, f"{name}{Path(book.name).suffix}", book.data, book.expected)
        for name, book in books
    ]


CASES: list[CorpusCase] = _cases()
"""The corpus: append cases here (months and a file name of their own)."""


def _params(cases: Sequence[CorpusCase]) -> list[object]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


def _in_months(months: frozenset[date]) -> str:
    """A SQL condition on ``month_start_date``: one of ``months``."""
    return "month_start_date in (" + ", ".join(f"date '{m}'" for m in sorted(months)) + ")"


def _rows(lake: Path, sql: str, *params: object) -> list[dict[str, object]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


class Built:
    """The lake every case was loaded into, and the load's and the build's outcome."""

    def __init__(self, lake: Path, load_output: str, build: DbtResult) -> None:
        self.lake = lake
        self.load_output = load_output
        self.build = build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> Built:
    folder = tmp_path_factory.mktemp("real-tools")
    files = folder / "files"
    files.mkdir()
    paths = []
    for case in CASES:
        path = files / case.file_name
        path.write_bytes(case.data)
        paths.append(str(path))
    lake = folder / "lake"
    loaded = run_dap("load", *paths, "--lake", str(lake))
    assert loaded.returncode == 0, (
        f"dap load of the corpus failed (every case is loaded at once):\n{loaded.stderr[-4000:]}"
    )
    env = {
        **os.environ,
        "DAP_LAKE": str(lake),
        "DBT_PROFILES_DIR": str(dbt_profiles_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("DBT_TARGET", None)
    build = run_dbt_cli(BUILD_ARGS, cwd=REPO_ROOT, env=env, target=folder / "target")
    return Built(lake, loaded.stdout + loaded.stderr, build)


def test_the_corpus_is_well_formed() -> None:
    """Cases can share one lake: months and a file name each, within the service's days."""
    owners: dict[date, list[str]] = defaultdict(list)
    for case in CASES:
        for month in case.months:
            owners[month].append(case.name)
    shared = {str(m): names for m, names in sorted(owners.items()) if len(names) > 1}
    assert shared == {}, f"cases share months: {shared}"
    names = [case.file_name for case in CASES]
    assert len(set(names)) == len(names), f"two cases share a file name: {sorted(names)}"
    assert len({case.name for case in CASES}) == len(CASES)
    days = [d.day for case in CASES for d in case.expected]
    assert min(days) >= date(2009, 1, 1), "before the service began: quarantined"
    assert max(days) < date.today(), "in the future: quarantined"


def test_the_build_passes(built: Built) -> None:
    output = built.build.output
    failed = [line for line in output.splitlines() if "Failure in" in line or "Error in" in line]
    assert built.build.returncode == 0, "\n".join(failed) or output[-4000:]


def test_no_day_in_the_marts_comes_from_no_case(built: Built) -> None:
    stated = {d.day for case in CASES for d in case.expected}
    found = _rows(built.lake, "select date, source_file_name from trusted.fct_contact_centre_daily")
    strays = sorted(
        f"{r['date']} ({r['source_file_name']})" for r in found if r["date"] not in stated
    )
    assert strays == [], f"days in the daily mart that no case states: {strays}"


def _half_up(numerator: int, denominator: int) -> float:
    exact = Decimal(100 * numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _close(found: object, wanted: float) -> bool:
    return isinstance(found, int | float) and abs(float(found) - wanted) <= FIGURE_TOLERANCE


def _daily_problems(case: CorpusCase, found: list[dict[str, object]]) -> list[str]:
    by_date = {cast(date, r["date"]): r for r in found}
    wanted = {d.day: d for d in case.expected}
    problems = []
    missing = sorted(set(wanted) - set(by_date))
    extra = sorted(set(by_date) - set(wanted))
    if missing:
        problems.append(f"days missing from the mart: {[str(d) for d in missing]}")
    if extra:
        problems.append(f"days the file does not have: {[str(d) for d in extra]}")
    for day, d in sorted(wanted.items()):
        row = by_date.get(day)
        if row is None:
            continue
        figures = {
            "calls_offered": d.offered,
            "calls_handled": d.handled,
            "calls_abandoned": d.abandoned,
            "service_level": d.service_level,
            "avg_speed_of_answer_seconds": d.speed,
            "calls_handled_pct": _half_up(d.handled, d.offered),
        }
        for column, value in figures.items():
            if not _close(row[column], value):
                problems.append(f"{day} {column}: mart has {row[column]!r}, file states {value!r}")
    return problems


def _monthly_problems(case: CorpusCase, found: list[dict[str, object]]) -> list[str]:
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for d in case.expected:
        totals = sums[d.day.replace(day=1)]
        totals[0] += d.offered
        totals[1] += d.handled
    by_month = {r["month_start_date"]: r for r in found}
    problems = []
    if set(by_month) != set(sums):
        problems.append(
            f"months in the monthly mart {sorted(map(str, by_month))}, "
            f"expected {sorted(map(str, sums))}"
        )
    for month, (offered, handled) in sorted(sums.items()):
        row = by_month.get(month)
        if row is None:
            continue
        figures = {
            "calls_offered": offered,
            "calls_handled": handled,
            "calls_handled_pct": _half_up(handled, offered),
        }
        for column, value in figures.items():
            if not _close(row[column], value):
                problems.append(
                    f"month {month} {column}: mart has {row[column]!r}, expected {value!r} "
                    f"(100 x {handled} / {offered})"
                )
    return problems


@pytest.mark.parametrize("case", _params(CASES))
def test_the_marts_hold_what_the_file_states(built: Built, case: CorpusCase) -> None:
    where = _in_months(case.months)
    daily = _rows(
        built.lake, f"select * from trusted.fct_contact_centre_daily where {where} order by date"
    )
    monthly = _rows(
        built.lake, f"select * from trusted.fct_calls_handled_monthly where {where} order by all"
    )
    problems = _daily_problems(case, daily) + _monthly_problems(case, monthly)
    quarantined = _rows(
        built.lake,
        "select distinct source_row_number, rule_code from curated.quarantine_daily_metrics"
        " where source_file_name = ? order by all",
        case.file_name,
    )
    if sorted({int(str(r["source_row_number"])) for r in quarantined}) != sorted(case.held_back):
        held = [f"row {r['source_row_number']} ({r['rule_code']})" for r in quarantined]
        problems.append(f"quarantined: {held or 'nothing'}, expected rows {list(case.held_back)}")
    sources = sorted({str(r["source_file_name"]) for r in daily})
    if sources and sources != [case.file_name]:
        problems.append(f"the months' days come from {sources}, not only {case.file_name}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(
            f"case {case.name} ({case.file_name}: {case.notes}), months "
            f"{', '.join(sorted(m.strftime('%Y-%m') for m in case.months))}:\n  "
            f"{shown}{more}",
            pytrace=False,
        )
