"""The report's section on days with disagreeing extracts: each day, the figures that
differ, whose were used and why (the precedence rule), or a sentence saying there were
none."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb

from dap.publish._report_data import Conflict
from dap.publish.report import read_report_data, render_html
from dap.publish.summary import format_summary, read_summary

NOW = datetime(2026, 1, 1, 12, 0)
WarehouseMaker = Callable[..., Path]


def _conflict_rows(page: str) -> list[dict[str, str]]:
    table = re.search(r'<table id="conflicts">.*?</table>', page, re.DOTALL)
    assert table is not None, "no conflicts table"
    found = []
    for day, decided, row in re.findall(
        r'<tr data-day="([\d-]+)" data-decided-by="(\w+)">(.*?)</tr>', table[0], re.DOTALL
    ):
        cells = dict(re.findall(r'<td data-field="(\w+)">([^<]*)</td>', row))
        found.append({"day": day, "decided_by": decided, **cells})
    return found


def test_the_page_lists_each_day_with_the_extract_used_and_why(
    make_warehouse: WarehouseMaker,
) -> None:
    page = render_html(read_report_data(make_warehouse()), NOW)

    assert _conflict_rows(page) == [
        {
            "day": "2024-02-01",
            "decided_by": "reaches_later",
            "measures": "calls_offered",
            "used": "export.xlsx",
            "not_used": "archive-&lt;2024&gt;.xlsx",  # text from the data, escaped
            "why": "its data reaches a later date (2024-02-29 against 2024-02-10)",
        }
    ]
    section = page[page.index("Days on which extracts disagree") :]
    assert "a deliberate correction (loaded with\n<code>dap load --supersede</code>) first" in (
        section
    )
    assert "the extract whose data reaches the later\ndate" in section
    assert 'id="conflicts">None' not in page


def test_the_page_says_when_no_extracts_disagree(make_warehouse: WarehouseMaker) -> None:
    lake = make_warehouse()
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("delete from curated.conflicts_daily_metrics")
    page = render_html(read_report_data(lake), NOW)

    assert '<table id="conflicts">' not in page
    assert '<p id="conflicts">None: no two extracts give different figures for any day.</p>' in page


def test_each_step_of_the_rule_is_said_in_words() -> None:
    def why(decided_by: str, reason: str | None = None) -> str:
        conflict = Conflict(
            date(2019, 3, 4),
            "calls_handled",
            "a.xlsx",
            "b.xlsx",
            decided_by,
            date(2024, 5, 31),
            date(2019, 12, 31),
            reason,
        )
        return html.unescape(conflict.why)

    assert why("superseding", "audited figures") == (
        "loaded as a deliberate correction (dap load --supersede): audited figures"
    )
    assert why("superseding") == "loaded as a deliberate correction (dap load --supersede)"
    assert why("reaches_later") == "its data reaches a later date (2024-05-31 against 2019-12-31)"
    assert why("ingested_later") == "both reach 2024-05-31; it was loaded later"
    assert why("sha256_tie_break") == (
        "both reach 2024-05-31 and were loaded together; tie broken by sha256"
    )


def test_the_summary_counts_the_days(make_warehouse: WarehouseMaker) -> None:
    out = format_summary(read_summary(str(make_warehouse())))
    assert "conflicting extract rows: 1 on 1 day(s) (curated.conflicts_daily_metrics" in out
