"""The report: the page rendered from the marts, its files written through the lake."""

from __future__ import annotations

import errno
import os
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dap.errors import LakeError
from dap.lake.storage import LocalLake, open_lake
from dap.publish.report import read_report_data, render_html, write_report

NOW = datetime(2026, 1, 1, 12, 0)
FILES = {
    "index.html": "text/html; charset=utf-8",
    "calls-handled.png": "image/png",
    "calls-handled-daily.csv": "text/csv; charset=utf-8",
}


class _RecordingLake(LocalLake):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: list[tuple[str, str]] = []

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        self.writes.append((key, content_type))
        return super().write_bytes(key, data, content_type)


def _everything_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones (temporary files) included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")}


def test_every_file_is_written_through_the_lake_with_its_content_type(make_warehouse, tmp_path):
    site = tmp_path / "site"
    out = _RecordingLake(site)
    written = write_report(make_warehouse(), out, now=NOW)
    assert out.writes == list(FILES.items())
    assert written == [str(site / name) for name in FILES]
    assert set(_everything_in(site)) == set(FILES)  # no temporary file left behind
    assert (site / "index.html").read_bytes().startswith(b"<!doctype html>")
    assert (site / "calls-handled.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_failed_local_write_leaves_the_published_files_whole(
    make_warehouse, tmp_path, monkeypatch
):
    lake, site = make_warehouse(), tmp_path / "site"
    write_report(lake, open_lake(str(site)), now=NOW)
    published = _everything_in(site)
    replace = os.replace

    def fail_in_site(source: str, target: str) -> None:
        if Path(target).parent == site:
            raise OSError(errno.ENOSPC, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(os, "replace", fail_in_site)
    with pytest.raises(LakeError, match=r"cannot write .*index\.html: No space left on device"):
        write_report(lake, open_lake(str(site)), now=datetime(2027, 1, 1))
    assert _everything_in(site) == published  # the old page, whole; no temporary file


def test_the_output_must_be_a_folder(make_warehouse, tmp_path):
    site = tmp_path / "site"
    site.write_text("a file")
    with pytest.raises(LakeError, match="must be a folder"):
        write_report(make_warehouse(), open_lake(str(site)), now=NOW)


def _cells(page: str) -> dict[tuple[str, str], str]:
    """{(year, field): text} from the page's yearly table."""
    table = re.search(r'<table id="yearly">.*?</table>', page, re.DOTALL)
    assert table is not None
    return {
        (year, field): text
        for year, row in re.findall(r'<tr data-year="(\d+)">(.*?)</tr>', table[0], re.DOTALL)
        for field, text in re.findall(r'<td data-field="(\w+)"[^>]*>([^<]*)</td>', row)
    }


def test_page_shows_the_marts_figures(make_warehouse):
    lake = make_warehouse()
    page = render_html(read_report_data(lake), NOW)
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        yearly = con.execute(
            "select year, calls_offered, calls_handled, calls_handled_pct, service_level,"
            " avg_speed_of_answer_seconds, days_reported"
            " from trusted.fct_calls_handled_yearly order by year"
        ).fetchall()
    expected = {}
    for year, offered, handled, pct, level, answer, days in yearly:
        # 2023 (November-December) and 2024 (January-February) cover no common days of the
        # year: no change is shown, rather than one of unlike periods.
        expected |= {
            (str(year), "calls_offered"): f"{offered:,}",
            (str(year), "calls_handled"): f"{handled:,}",
            (str(year), "calls_handled_pct"): f"{pct:.2f}",
            (str(year), "change"): "&ndash;",
            (str(year), "service_level"): f"{level * 100:.2f}",
            (str(year), "avg_speed_of_answer_seconds"): f"{answer:.2f}",
            (str(year), "days_reported"): str(days),
        }
    assert _cells(page) == expected
    assert "2024 and 2023 cover no common days of the year: no change shown." in page
    # Each list on one line, as the browser tests read it.
    assert re.search(r'<ul id="quarantined"><li data-day="2024-01-15">[^\n]*</ul>', page)
    assert '<ul id="missing"><li data-day="2023-12-25">2023-12-25</li></ul>' in page
    assert "2023: 2023-11-01 to 2023-12-31 (60 days); 2024: 2024-01-01 to 2024-02-29" in page
    assert '<span data-field="first_day">2023-11-01</span>' in page
    assert '<span data-field="built_at">2024-03-01 06:30 UTC</span>' in page
    assert "page generated 2026-01-01 12:00 UTC" in page
    assert '<a href="calls-handled-daily.csv" download>' in page
    for chart in ("yearly", "monthly", "service-level", "speed-of-answer"):
        assert f'data-chart="{chart}"' in page, chart
    assert page.count('class="bar partial" data-year=') == 2  # both years are partial
    assert re.search(r'<polyline points="\d+\.\d,', page)


def test_page_is_self_contained(make_warehouse):
    page = render_html(read_report_data(make_warehouse()), NOW)
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_page_escapes_text_from_the_data(make_warehouse):
    """The warehouse's quarantine reason is ``<script>alert(1)</script> calls ...``."""
    page = render_html(read_report_data(make_warehouse()), NOW)
    assert "<script>" not in page
    assert "2024-01-15: &lt;script&gt;alert(1)&lt;/script&gt; calls handled exceed" in page
    assert "(day left out)</li>" in page
