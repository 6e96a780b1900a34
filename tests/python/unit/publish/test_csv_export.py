"""CSV for people neutralises cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from dap.lake.storage import open_lake
from dap.publish.csv_export import csv_bytes, neutralise
from dap.publish.report import DAILY_COLUMNS, ReportData, write_report


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("book.xlsx", "book.xlsx"),
        ("", ""),
        (-2, -2),
        (1.5, 1.5),
        (None, None),
        (date(2024, 1, 1), date(2024, 1, 1)),
    ],
)
def test_formula_leading_text_is_neutralised_and_nothing_else(value, expected):
    assert neutralise(value) == expected


def test_csv_bytes_reads_back_as_text_with_numbers_kept(tmp_path):
    data = csv_bytes(["name", "count"], [["=cmd|' /C calc'!A0", -3], ["ok", None]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["name", "count"], ["'=cmd|' /C calc'!A0", "-3"], ["ok", ""]]


def test_the_report_download_neutralises_a_hostile_file_name(tmp_path, monkeypatch):
    hostile = '=HYPERLINK("http://evil.example","click").xlsx'
    data = ReportData(
        years=[],
        months=[],
        quarantined=[],
        missing_days=[],
        first_day=date(2024, 1, 1),
        last_day=date(2024, 1, 1),
        built_at=datetime(2024, 1, 2),
        daily=[(date(2024, 1, 1), 10, 9, 1, 90.0, 0.8, 12.5, hostile)],
    )
    monkeypatch.setattr("dap.publish.report.read_report_data", lambda _lake: data)
    monkeypatch.setattr("dap.publish.report.render_html", lambda *_args: "<html></html>")
    monkeypatch.setattr("dap.publish.report.render_png", lambda _data: b"png")
    write_report(tmp_path / "lake", open_lake(str(tmp_path / "out")))
    text = (tmp_path / "out" / "calls-handled-daily.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(DAILY_COLUMNS)
    assert rows[1] == ["2024-01-01", "10", "9", "1", "90.0", "0.8", "12.5", "'" + hostile]
