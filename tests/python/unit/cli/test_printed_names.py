"""A file, sheet or member name is printed with its control and format characters escaped:
whatever it holds, it cannot start a line of the loader's output of its own."""

from __future__ import annotations

from datetime import date

import pytest

from dap.errors import Location, printable
from testkit.workbooks import rows_for, run_dap, xlsx

FORGED = "2 file(s): 2 landed"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("plain name.xlsx", "plain name.xlsx"),
        ("Données été 漢字.xlsx", "Données été 漢字.xlsx"),
        ("a\nb.xlsx", "a\\nb.xlsx"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("right\u202eto left", "right\\u202eto left"),
        ("line\u2028sep", "line\\u2028sep"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
    ],
)
def test_printable_escapes_what_a_terminal_acts_on_and_keeps_letters(name, shown):
    assert printable(name) == shown
    assert printable(name).isprintable()


def test_a_location_prints_its_file_and_sheet_on_one_line():
    text = str(Location("x\nLANDED.xlsx", "s\u2028heet", 3, "B"))
    assert "\n" not in text
    assert "\u2028" not in text
    assert text.startswith("x\\nLANDED.xlsx, sheet ")


def test_a_newline_in_a_file_name_cannot_forge_a_line_of_dap_load(tmp_path):
    name = f"book\n{FORGED}.xlsx"
    rows = [["Date", "CallsOffered"], *rows_for(date(2023, 1, 1), 3)]
    path = xlsx(tmp_path / name, {"Data": rows})
    result = run_dap("load", "--lake", tmp_path / "lake", path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert not any(line.startswith(FORGED) for line in lines), lines
    assert any("book\\n" + FORGED in line for line in lines), lines


def test_a_newline_in_a_refused_files_name_stays_on_the_error_line(tmp_path):
    path = tmp_path / f"notes\n{FORGED}.xlsx"
    path.write_bytes(b"not a workbook at all, just text\n" * 4)
    result = run_dap("load", "--lake", tmp_path / "lake", path)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors, result.stderr
    assert all("notes\\n" + FORGED in line for line in errors), result.stderr
    assert not any(line.startswith(FORGED) for line in result.stderr.splitlines())
