"""The synthetic sample workbooks and the CSV-to-workbook conversion."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from dap.errors import DapError
from dap.samples.excel_writer import Cell, write_xls, write_xlsx
from dap.samples.synthetic import (
    ATTRIBUTION,
    HEADER,
    LOWERCASE_HEADER,
    MISSING_DAYS,
    PLANTED_HANDLED_EXCEEDS_OFFERED,
    SampleFile,
    csv_rows_to_workbooks,
    write_sample,
)
from testkit.support import REAL_CSV

START, END = date(2020, 1, 1), date(2024, 9, 30)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _as_date(value: object) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    assert isinstance(value, date)
    return value


def _sheets(path: Path) -> dict[str, list[list[Any]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def _data_rows(path: Path) -> list[list[Any]]:
    """The metric sheet's rows (the first sheet), header included."""
    return next(iter(_sheets(path).values()))


Sample = tuple[Path, list[SampleFile]]
Days = dict[date, list[Any]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out)


@pytest.fixture(scope="module")
def days(sample: Sample) -> dict[date, list[Any]]:
    """Every data row of every sample workbook, keyed by date."""
    _, files = sample
    by_day: dict[date, list[Any]] = {}
    for f in files:
        for row in _data_rows(f.path)[1:]:
            day = _as_date(row[0])
            assert day not in by_day, f"{day} appears twice"
            by_day[day] = row
    return by_day


def test_same_seed_gives_identical_bytes(sample: Sample, tmp_path: Path) -> None:
    _, files = sample
    again = write_sample(tmp_path / "again")
    assert [f.path.name for f in again] == [f.path.name for f in files]
    for first, second in zip(files, again, strict=True):
        assert _sha256(first.path) == _sha256(second.path), first.path.name


def test_other_seed_gives_other_numbers(sample: Sample, tmp_path: Path) -> None:
    _, files = sample
    other = write_sample(tmp_path, seed=312, start=date(2021, 1, 1), end=date(2021, 1, 31))
    assert _data_rows(other[0].path)[1:] != _data_rows(files[1].path)[1:32]


def test_file_set_and_formats(sample: Sample) -> None:
    out, files = sample
    names = [
        "contact-centre-metrics-2020.xls",
        "contact-centre-metrics-2021.xlsx",
        "contact-centre-metrics-2022.xlsx",
        "contact-centre-metrics-2023.xlsx",
        "contact-centre-metrics-2024.xlsx",
    ]
    assert [f.path.name for f in files] == names
    assert sorted(p.name for p in out.iterdir()) == names
    assert files[0].path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    for f in files[1:]:
        assert f.path.read_bytes()[:4] == b"PK\x03\x04"
    assert (files[0].first_date, files[-1].last_date) == (START, END)


def test_rows_newest_first_with_bi_id(sample: Sample) -> None:
    _, files = sample
    for f in files:
        rows = _data_rows(f.path)
        assert [str(h).lower() for h in rows[0]] == [h.lower() for h in HEADER]
        data = rows[1:]
        assert len(data) == f.rows
        dates = [_as_date(r[0]) for r in data]
        assert dates == sorted(dates, reverse=True)
        assert (dates[-1], dates[0]) == (f.first_date, f.last_date)
        assert [int(r[6]) for r in data] == list(range(1, len(data) + 1))
        expected = (f.last_date - f.first_date).days + 1
        expected -= sum(f.first_date <= d <= f.last_date for d in MISSING_DAYS)
        assert f.rows == expected


def test_total_rows_and_missing_days(days: Days) -> None:
    assert len(days) == (END - START).days + 1 - len(MISSING_DAYS)
    for missing in MISSING_DAYS:
        assert missing not in days
        assert missing - timedelta(days=1) in days
        assert missing + timedelta(days=1) in days


def test_planted_violation(days: Days) -> None:
    _, offered, handled, *_ = days[PLANTED_HANDLED_EXCEEDS_OFFERED]
    assert handled > 2 * offered
    big = [d for d, r in days.items() if r[2] > r[1] + 10]
    assert big == [PLANTED_HANDLED_EXCEEDS_OFFERED]


def test_realistic_volumes(days: Days) -> None:
    weekday = [r[1] for d, r in days.items() if d.weekday() < 5]
    weekend = [r[1] for d, r in days.items() if d.weekday() >= 5]
    assert mean(weekday) > 2 * mean(weekend)
    assert 900 <= mean(weekday) <= 1300
    assert 300 <= mean(weekend) <= 450
    by_weekday = [mean(r[1] for d, r in days.items() if d.weekday() == w) for w in range(7)]
    assert max(by_weekday) == by_weekday[0], "Mondays are the busiest"
    for d, (_, offered, handled, abandoned, asa, sl, _) in days.items():
        assert 0 < abandoned < 0.15 * offered, d
        assert 0.5 <= sl <= 1, d
        assert 2 <= asa <= 400, d
        if d != PLANTED_HANDLED_EXCEEDS_OFFERED:
            assert handled <= offered, d
    normal = [r for d, r in days.items() if r[2] + r[3] <= r[1]]
    remainder = mean((r[1] - r[2] - r[3]) / r[1] for r in normal)
    assert 0.02 < remainder < 0.06
    busy = [r for r in days.values() if r[1] > 1200]
    quiet = [r for r in days.values() if r[1] < 450]
    assert mean(r[5] for r in busy) < mean(r[5] for r in quiet)
    assert mean(r[4] for r in busy) > mean(r[4] for r in quiet)


def test_over_counted_days_exist_and_are_small(days: Days) -> None:
    over = {
        d: r[2] + r[3] - r[1]
        for d, r in days.items()
        if r[2] + r[3] > r[1] and d != PLANTED_HANDLED_EXCEEDS_OFFERED
    }
    assert over
    assert len(over) < len(days) / 100
    assert all(1 <= excess <= 4 for excess in over.values())


def test_year_specific_quirks(sample: Sample) -> None:
    _, files = sample
    by_year = {f.first_date.year: f.path for f in files}
    text_dates = {
        y: all(isinstance(r[0], str) for r in _data_rows(p)[1:]) for y, p in by_year.items()
    }
    assert text_dates == {2020: False, 2021: False, 2022: True, 2023: False, 2024: False}
    assert _data_rows(by_year[2023])[0] == list(LOWERCASE_HEADER)
    assert _data_rows(by_year[2022])[0] == list(HEADER)
    sheet_names = {y: list(_sheets(p)) for y, p in by_year.items()}
    assert len({names[0] for names in sheet_names.values()}) >= 3
    assert sheet_names[2023][0] == "Data 2023"
    assert sheet_names[2024][1] == "About"
    assert all(len(names) == 1 for y, names in sheet_names.items() if y != 2024)
    about = _sheets(by_year[2024])["About"]
    assert [ATTRIBUTION] in about
    assert all(len(row) == 1 and isinstance(row[0], str) for row in about)


def test_number_formatting_drifts(sample: Sample) -> None:
    _, files = sample

    def decimals(path: Path) -> int:
        return max(len(repr(float(r[5])).split(".")[1]) for r in _data_rows(path)[1:])

    assert decimals(files[0].path) <= 4
    assert decimals(files[1].path) <= 4
    assert decimals(files[3].path) > 10


def test_days_do_not_depend_on_range(days: Days, tmp_path: Path) -> None:
    files = write_sample(tmp_path, start=date(2023, 6, 10), end=date(2023, 6, 20))
    assert [f.path.suffix for f in files] == [".xls"]
    for row in _data_rows(files[0].path)[1:]:
        assert row[1:6] == days[_as_date(row[0])][1:6]


def test_empty_range_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DapError, match="after"):
        write_sample(tmp_path, start=date(2024, 1, 2), end=date(2024, 1, 1))


def test_writers_are_deterministic_and_exact(tmp_path: Path) -> None:
    sheets: dict[str, list[list[Cell]]] = {
        "S": [["Date", "X"], [date(2024, 2, 29), 0.1 + 0.2], [date(1999, 12, 31), 7]]
    }
    for writer, suffix in ((write_xlsx, ".xlsx"), (write_xls, ".xls")):
        first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        writer(first, sheets)
        writer(second, sheets)
        assert _sha256(first) == _sha256(second)
        rows = _data_rows(first)
        assert rows[1] == [date(2024, 2, 29), 0.30000000000000004]
        assert rows[2][0] == date(1999, 12, 31)
        assert rows[2][1] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xls", "a.xlsx", "b.xls", "b.xlsx"]


def test_xlsx_carries_no_clock_time(sample: Sample) -> None:
    """Same-second runs would hide a timestamp, so check that none is written at all."""
    _, files = sample
    for f in files[1:]:
        with zipfile.ZipFile(f.path) as archive:
            infos = archive.infolist()
            assert infos[0].filename == "[Content_Types].xml"
            assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
            assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
            assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
            core = archive.read("docProps/core.xml").decode()
        assert core.count("2000-01-01T00:00:00Z") == 2, core


TINY_CSV = (
    "\ufeffDate;CallsOffered;CallsHandled;CallsAbandoned;AverageSpeedofAnswer;ServiceLevel;BI_ID\r\n"
    "2024-01-02;1200;1100;50;42.123456789012345;0.81;1\r\n"
    "2024-01-01;400;390;5;6.0;0.9851;2\r\n"
    "2023-12-31;350;345;6;4.5;1.0;3\r\n"
)


def test_csv_to_yearly_workbooks(tmp_path: Path) -> None:
    csv_path = tmp_path / "export.csv"
    csv_path.write_bytes(TINY_CSV.encode("utf-8"))
    paths = csv_rows_to_workbooks(csv_path, tmp_path / "out")
    assert [p.name for p in paths] == [
        "3-1-1-contact-centre-metrics-2023.xlsx",
        "3-1-1-contact-centre-metrics-2024.xlsx",
    ]
    rows_2023, rows_2024 = (_data_rows(p) for p in paths)
    assert rows_2024[0] == list(HEADER)
    assert rows_2024[1:] == [
        [date(2024, 1, 2), 1200, 1100, 50, 42.123456789012345, 0.81, 1],
        [date(2024, 1, 1), 400, 390, 5, 6.0, 0.9851, 2],
    ]
    assert rows_2023[1:] == [[date(2023, 12, 31), 350, 345, 6, 4.5, 1.0, 3]]


def test_csv_to_single_workbook(tmp_path: Path) -> None:
    csv_path = tmp_path / "export.csv"
    csv_path.write_bytes(TINY_CSV.encode("utf-8"))
    paths = csv_rows_to_workbooks(csv_path, tmp_path, by_year=False)
    assert [p.name for p in paths] == ["3-1-1-contact-centre-metrics.xlsx"]
    rows = _data_rows(paths[0])
    assert len(rows) == 4
    assert [_as_date(r[0]).year for r in rows[1:]] == [2024, 2024, 2023]


def test_csv_that_is_not_the_export(tmp_path: Path) -> None:
    csv_path = tmp_path / "other.csv"
    csv_path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DapError, match=r"other\.csv"):
        csv_rows_to_workbooks(csv_path, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("Date;CallsOffered\n2024-01-01;lots\n", encoding="utf-8")
    with pytest.raises(DapError, match="line 2"):
        csv_rows_to_workbooks(bad, tmp_path)


@pytest.mark.skipif(not REAL_CSV.is_file(), reason=f"real CSV export not present at {REAL_CSV}")
def test_real_csv_to_workbooks(tmp_path: Path) -> None:
    paths = csv_rows_to_workbooks(REAL_CSV, tmp_path)
    assert [p.name for p in paths] == [
        f"3-1-1-contact-centre-metrics-{year}.xlsx" for year in range(2009, 2025)
    ]
    total = 0
    for year, path in zip(range(2009, 2025), paths, strict=True):
        rows = _data_rows(path)
        assert rows[0] == list(HEADER)
        assert {_as_date(r[0]).year for r in rows[1:]} == {year}
        total += len(rows) - 1
    assert total == 5585
    newest = _data_rows(paths[-1])[1]
    assert newest == [date(2024, 9, 30), 478, 477, 1, 0.80083857442348, 0.99163179916318, 1]
