"""The formats ``dap load`` reads, told from the content: CSV and Parquet read through the
workbook's typing path, every other kind refused saying what it is and what to do.

Every file is generated here: the portal's CSV (``;`` with a byte-order mark), comma CSV
without one, the API's lowercase headers, Parquet written with pyarrow, a CSV named
``.xlsx``, and the kinds the loader refuses (TSV, SpreadsheetML 2003, an Apple Numbers
package, JSON, HTML, PDF, an empty file, ...).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dap.errors import Location, PiiError, WorkbookError
from dap.ingest.cells import PARSERS
from dap.ingest.formats import NOT_READABLE, FileFormat, detect_format, parse_file
from dap.ingest.pii import PiiKind
from dap.ingest.workbook import ParsedWorkbook
from dap.ingest.workbook._typing import _BULK
from dap.lake.load import load_workbooks, manifest_key
from dap.lake.storage import LocalLake
from dap.samples.excel_writer import Cell
from dap.schema import DATASET
from testkit.workbooks import HEADER, manifest, raw_table, row, run_dap, tree_state, xls, xlsx

LOWERCASE_HEADER = [
    "date",
    "callsoffered",
    "callshandled",
    "callsabandoned",
    "averagespeedofanswer",
    "servicelevel",
    "bi_id",
]
"""The API's field names, as the portal's JSON and some of its exports spell them."""
D1, D2, D3 = date(2024, 9, 28), date(2024, 9, 29), date(2024, 9, 30)
FIXED = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)


def text_rows(rows: Sequence[Sequence[Cell]]) -> list[list[str]]:
    """Rows as a CSV holds them: dates ISO, numbers as Python writes them."""
    return [[c.isoformat() if isinstance(c, date) else str(c) for c in r] for r in rows]


def csv_bytes(
    rows: Sequence[Sequence[Cell]],
    *,
    delimiter: str = ";",
    bom: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    """A CSV as the portal writes it by default: ``;``, a byte-order mark, CRLF."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(text_rows(rows))
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def portal_rows(header: Sequence[Cell] = HEADER) -> list[list[Cell]]:
    return [list(header), row(D3, 1), row(D2, 2), row(D1, 3)]


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def typed_parquet(names: Sequence[str] = LOWERCASE_HEADER) -> bytes:
    """The portal's Parquet export as a typed table: a date column, counts, ratios."""
    return parquet_bytes(
        pa.table(
            {
                names[0]: pa.array([D3, D2, D1], pa.date32()),
                names[1]: pa.array([1001, 1002, 1003], pa.int64()),
                names[2]: pa.array([901, 902, 903], pa.int64()),
                names[3]: pa.array([51, 52, 53], pa.int64()),
                names[4]: pa.array([20.25, 20.5, 20.75], pa.float64()),
                names[5]: pa.array([0.5 + 1 / 64, 0.5 + 2 / 64, 0.5 + 3 / 64], pa.float64()),
                names[6]: pa.array([1, 2, 3], pa.int64()),
            }
        )
    )


def parse(name: str, data: bytes, **kwargs: object) -> ParsedWorkbook:
    return parse_file(name, data, **kwargs)  # type: ignore[arg-type]


def refusal(name: str, data: bytes) -> WorkbookError:
    with pytest.raises(WorkbookError) as info:
        parse_file(name, data)
    return info.value


EXPECTED = {
    "date": [D3, D2, D1],
    "callsoffered": [1001, 1002, 1003],
    "callshandled": [901, 902, 903],
    "callsabandoned": [51, 52, 53],
    "averagespeedofanswer": [20.25, 20.5, 20.75],
    "servicelevel": [0.5 + 1 / 64, 0.5 + 2 / 64, 0.5 + 3 / 64],
    "bi_id": [1, 2, 3],
}


def check_typed(parsed: ParsedWorkbook, sheet: str) -> None:
    columns = parsed.columns
    for name, values in EXPECTED.items():
        assert columns[name] == values, name
    assert columns["load_issues"] == [None, None, None]
    assert columns["source_sheet"] == [sheet] * 3
    assert columns["source_row_number"] == [2, 3, 4]
    assert [(s.name, s.header_row, s.rows) for s in parsed.sheets] == [(sheet, 1, 3)]


# --- CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "bom"), [(";", True), (";", False), (",", True), (",", False)]
)
def test_csv_with_and_without_bom_either_delimiter(delimiter: str, bom: bool) -> None:
    data = csv_bytes(portal_rows(), delimiter=delimiter, bom=bom)
    detected = detect_format("export.csv", data)
    assert (detected.format, detected.delimiter) == (FileFormat.CSV, delimiter)
    assert detected.encoding == ("utf-8-sig" if bom else "utf-8")
    parsed = parse("export.csv", data)
    assert parsed.file_format is FileFormat.CSV
    check_typed(parsed, "csv")


def test_csv_with_the_apis_lowercase_headers() -> None:
    parsed = parse("api.csv", csv_bytes(portal_rows(LOWERCASE_HEADER)))
    check_typed(parsed, "csv")


def test_csv_named_xlsx_loads_as_csv() -> None:
    parsed = parse("export.xlsx", csv_bytes(portal_rows()))
    assert parsed.file_format is FileFormat.CSV
    check_typed(parsed, "csv")


def test_csv_with_title_rows_blank_lines_and_quoted_thousands() -> None:
    rows: list[list[Cell]] = [
        ["3-1-1 Contact Centre Metrics"],
        [],
        HEADER,
        [D3.isoformat(), "1,001", "901", "51", "20.25", "51.5625%", "1"],
        [],
        row(D2, 2),
    ]
    parsed = parse("titled.csv", csv_bytes(rows, delimiter=","))
    assert [(s.header_row, s.rows) for s in parsed.sheets] == [(3, 2)]
    columns = parsed.columns
    assert columns["callsoffered"] == [1001, 1002]
    assert columns["servicelevel"] == [0.515625, 0.5 + 2 / 64]
    assert columns["source_row_number"] == [4, 6]  # the blank record 5 is skipped


def test_a_bad_cell_is_quoted_with_its_row_and_column() -> None:
    rows = portal_rows()
    rows[2][1] = "abc"  # CallsOffered, record 3
    rows[3][5] = "12,5"  # a decimal comma: unreadable, not guessed
    parsed = parse("export.csv", csv_bytes(rows))
    columns = parsed.columns
    assert columns["callsoffered"] == [1001, None, 1003]
    assert columns["load_issues"] == [
        None,
        "CallsOffered (B3): 'abc' is not a number",
        "ServiceLevel (F4): '12,5' is not a number",
    ]
    assert [s.rows_with_issues for s in parsed.sheets] == [2]


def test_windows_1252_and_utf16_text_are_read() -> None:
    rows: list[list[Cell]] = [[*HEADER, "Notes"], [*row(D3, 1), "Café fermé"]]
    for data in (
        csv_bytes(rows, bom=False, encoding="cp1252"),
        b"\xff\xfe" + csv_bytes(rows, bom=False).decode().encode("utf-16-le"),
    ):
        parsed = parse("notes.csv", data)
        assert parsed.columns["callsoffered"] == [1001]


def test_whole_file_problems_name_the_csv_sheet_row_and_column() -> None:
    bad_dates = portal_rows()
    for r in bad_dates[1:]:
        r[0] = "30/09/2024"
    exc = refusal("dates.csv", csv_bytes(bad_dates))
    assert exc.location == Location("dates.csv", "csv", 2, "Date")
    assert "the date column (A) cannot be read: 3 of 3 values are not dates" in exc.problem

    twice = [[*HEADER, "date"], [*row(D3, 1), D3]]
    exc = refusal("twice.csv", csv_bytes(twice))
    assert exc.location == Location("twice.csv", "csv", 1, "Date")
    assert exc.problem == "the header appears more than once, in columns A and H"

    exc = refusal("header-only.csv", csv_bytes([HEADER]))
    assert str(exc) == "header-only.csv: no data rows under the header (sheets 'csv')"

    no_header = csv_bytes([["a", "b", "c"], ["1", "2", "3"]])
    exc = refusal("other.csv", no_header)
    assert exc.location == Location("other.csv")
    assert exc.problem.startswith("no header row with the required columns (Date")


def test_csv_too_large_to_hold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dap.ingest.formats._csv.MAX_ROWS", 3)
    exc = refusal("long.csv", csv_bytes(portal_rows()))
    assert exc.location == Location("long.csv", "csv", 4)
    assert "more than 3 rows" in exc.problem
    monkeypatch.setattr("dap.ingest.formats._csv.MAX_COLUMNS", 7)
    exc = refusal("wide.csv", csv_bytes([[*HEADER, "x"], row(D3, 1)]))
    assert exc.location == Location("wide.csv", "csv", 1)
    assert "the row has 8 columns, more than the 7" in exc.problem


def test_a_value_past_the_csv_modules_limit_names_its_row() -> None:
    rows: list[list[Cell]] = [*portal_rows(), [D1.isoformat(), "x" * 200_000]]
    exc = refusal("huge-cell.csv", csv_bytes(rows))
    assert exc.location == Location("huge-cell.csv", "csv", 5)
    assert "the CSV cannot be read here (field larger than field limit" in exc.problem


# --- Parquet -----------------------------------------------------------------------------


def test_parquet_with_typed_columns() -> None:
    data = typed_parquet()
    assert detect_format("export.parquet", data).format is FileFormat.PARQUET
    parsed = parse("export.parquet", data)
    assert parsed.file_format is FileFormat.PARQUET
    check_typed(parsed, "parquet")


def test_parquet_with_the_export_labels_and_text_columns() -> None:
    rows = text_rows(portal_rows())
    table = pa.table({name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])})
    check_typed(parse("text.parquet", parquet_bytes(table)), "parquet")


def test_parquet_bad_cell_is_quoted_as_in_a_workbook() -> None:
    table = pa.table(
        {
            "date": pa.array([D3, None, D1], pa.date32()),
            "callsoffered": ["1001", "abc", "1003"],
            "callshandled": pa.array([901.0, 902.5, 903.0]),
            "callsabandoned": [51, 52, 53],
            "averagespeedofanswer": [20.25, 20.5, 20.75],
            "servicelevel": [0.5, 0.6, 0.7],
        }
    )
    parsed = parse("bad.parquet", parquet_bytes(table))
    columns = parsed.columns
    assert columns["callsoffered"] == [1001, None, 1003]
    assert columns["callshandled"] == [901, None, 903]
    assert columns["bi_id"] == [None, None, None]
    assert columns["load_issues"] == [
        None,
        "CallsOffered (B3): 'abc' is not a number; CallsHandled (C3): 902.5 is not a whole number",
        None,
    ]


def test_parquet_with_timestamps_and_dictionary_text() -> None:
    table = pa.table(
        {
            "Date": pa.array([datetime(2024, 9, 30), datetime(2024, 9, 29, 8)], pa.timestamp("ms")),
            "CallsOffered": pa.array(["1001", "1002"]).dictionary_encode(),
            "CallsHandled": pa.array([901, 902], pa.int32()),
            "CallsAbandoned": pa.array([51, 2**60], pa.int64()),
            "AverageSpeedofAnswer": pa.array([20.25, 20.5], pa.float32()),
            "ServiceLevel": [0.5, 0.75],
        }
    )
    columns = parse("stamped.parquet", parquet_bytes(table)).columns
    assert columns["date"] == [D3, None]
    assert columns["callsoffered"] == [1001, 1002]
    assert columns["callsabandoned"] == [51, 2**60]  # beyond 2**53: exact, cell by cell
    assert columns["load_issues"][1] == (
        "Date (A3): 2024-09-29 08:00 has a time of day (08:00); the Date column needs "
        "calendar dates"
    )


def test_parquet_nested_column_and_oversize_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    nested = pa.table({"Date": [D3.isoformat()], "Notes": pa.array([["a", "b"]])})
    exc = refusal("nested.parquet", parquet_bytes(nested))
    assert exc.location == Location("nested.parquet", "parquet", 1, "Notes")
    assert exc.problem.startswith("the column (B) has type list<element: string>;")

    monkeypatch.setattr("dap.ingest.formats._parquet.MAX_ROWS", 3)
    exc = refusal("long.parquet", typed_parquet())
    assert exc.location == Location("long.parquet")
    assert "the file has 3 rows, more than a sheet holds (2 under its header)" in exc.problem

    monkeypatch.setattr("dap.ingest.formats._parquet.MAX_PARQUET_BYTES", 10)
    exc = refusal("big.parquet", parquet_bytes(pa.table({"Date": [D3]})))
    assert "bytes of data uncompressed, more than the 10 allowed" in exc.problem


def test_damaged_parquet_is_a_clean_error() -> None:
    data = bytearray(typed_parquet())
    data[len(data) // 3 : len(data) // 3 + 40] = b"\x00" * 40  # inside the column chunks
    with pytest.raises(WorkbookError) as info:
        parse("damaged.parquet", bytes(data))
    assert str(info.value).startswith("damaged.parquet")
    exc = refusal("cut.parquet", typed_parquet()[:200])
    assert exc.problem == (
        f"{NOT_READABLE}: it is a Parquet file cut short (no footer: a download that "
        "stopped?); download or export it again"
    )


# --- personal data -----------------------------------------------------------------------


def test_personal_data_in_a_csv_cell_stops_or_is_masked() -> None:
    rows: list[list[Cell]] = [
        [*HEADER, "Notes"],
        [*row(D3, 1), "ok"],
        [*row(D2, 2), "call back jane.doe@example.com"],
        [D1.isoformat(), "604-871-7000", *row(D1, 3)[2:], ""],
    ]
    data = csv_bytes(rows)
    with pytest.raises(PiiError) as info:
        parse("calls.csv", data)
    assert [(f.location, f.kind) for f in info.value.findings] == [
        (Location("calls.csv", "csv", 3, "H"), PiiKind.EMAIL),
        (Location("calls.csv", "csv", 4, "B"), PiiKind.PHONE),
    ]
    assert "jane.doe" not in str(info.value)
    assert "873" not in str(info.value)

    parsed = parse("calls.csv", data, pii="mask")
    assert [(f.location, f.kind) for f in parsed.pii_findings] == [
        (Location("calls.csv", "csv", 3, "H"), PiiKind.EMAIL),
        (Location("calls.csv", "csv", 4, "B"), PiiKind.PHONE),
    ]
    issues = parsed.columns["load_issues"]
    assert issues[2] == "CallsOffered (B4): '[phone number removed]' is not a number"


def test_personal_data_in_a_parquet_text_column_and_header() -> None:
    table = pa.table(
        {
            "Date": [D3],
            "CallsOffered": [1.0],
            "CallsHandled": [1.0],
            "CallsAbandoned": [0.0],
            "AverageSpeedofAnswer": [1.0],
            "ServiceLevel": [1.0],
            "V5K 0A1": ["note"],
        }
    )
    with pytest.raises(PiiError) as info:
        parse("p.parquet", parquet_bytes(table))
    assert [(f.location, f.kind) for f in info.value.findings] == [
        (Location("p.parquet", "parquet", 1, "G"), PiiKind.POSTAL_CODE)
    ]


# --- recognised and refused --------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return raw.getvalue()


SPREADSHEET_ML = (
    b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
    b'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n'
    b'<Worksheet ss:Name="Sheet1"><Table><Row><Cell><Data ss:Type="String">Date</Data></Cell>'
    b"</Row></Table></Worksheet></Workbook>\n"
)
NUMBERS = _zip(
    {
        "Index/Document.iwa": b"\x00\x01\x02",
        "Index/Tables/DataList.iwa": b"\x00",
        "Metadata/Properties.plist": b"<plist/>",
        "preview.jpg": b"\xff\xd8",
    }
)
PORTAL_JSON = json.dumps(
    [{"date": "2024-09-30", "callsoffered": 478, "callshandled": 477}], indent=1
).encode()

REFUSED: list[tuple[str, str, bytes, str]] = [
    (
        "tsv",
        "export.tsv",
        csv_bytes(portal_rows(), delimiter="\t"),
        "it is tab-delimited text (TSV); save it as CSV or .xlsx",
    ),
    (
        "tsv-without-metric-header",
        "other.xlsx",
        b"a\tb\tc\n1\t2\t3\n",
        "it is tab-delimited text (TSV); save it as CSV or .xlsx",
    ),
    (
        "spreadsheetml-2003",
        "export.xls",
        SPREADSHEET_ML,
        "it is an Excel 2003 XML spreadsheet (SpreadsheetML); open it in a spreadsheet tool "
        "and save it as .xlsx",
    ),
    (
        "apple-numbers",
        "export.numbers",
        NUMBERS,
        "it is an Apple Numbers document; export it to .xlsx or CSV from Numbers "
        "(File > Export To)",
    ),
    (
        "json",
        "export.json",
        PORTAL_JSON,
        "it is JSON (the portal's JSON export?); download the CSV or Parquet export instead "
        "(dap fetch --format csv)",
    ),
    (
        "html",
        "export.xlsx",
        b"\n<!DOCTYPE html><html><body>Service unavailable</body></html>",
        "it is an HTML page (an error page or a web page saved under this name?); download "
        "the export again (dap fetch)",
    ),
    (
        "other-xml",
        "data.xml",
        b'<?xml version="1.0"?><rows><row/></rows>',
        "it is an XML document, not a spreadsheet; export it as .xlsx or CSV",
    ),
    (
        "pdf",
        "report.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        "it is a PDF document; load the figures as CSV, Parquet or .xlsx",
    ),
    ("empty", "empty.csv", b"", "the file is empty (0 bytes); download or export it again"),
    (
        "blank",
        "blank.csv",
        b"\r\n  \r\n",
        "the file holds nothing but blank space; download or export it again",
    ),
    (
        "zip-of-csv",
        "export.zip",
        _zip({"export.csv": csv_bytes(portal_rows())}),
        "it is a zip archive, not a workbook (it holds export.csv); unzip it and load the "
        "workbook, CSV or Parquet file inside",
    ),
    (
        "word",
        "notes.docx",
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "it is a Word or PowerPoint document, not a workbook",
    ),
    (
        "odf-text",
        "notes.odt",
        _zip({"mimetype": b"application/vnd.oasis.opendocument.text"}),
        "it is an OpenDocument file of type 'application/vnd.oasis.opendocument.text', not "
        "a spreadsheet; save the figures as .ods, .xlsx or CSV",
    ),
    (
        "gzip",
        "export.csv.gz",
        gzip.compress(csv_bytes(portal_rows())),
        "it is gzip-compressed; decompress it (gunzip) and load the result",
    ),
    (
        "plain-text",
        "readme.csv",
        b"These are the 3-1-1 figures\nfor the year\n",
        "it is text, but not CSV: its first rows do not split on ';' or ',' into the metric "
        "columns or into columns of one width; save it as CSV or .xlsx",
    ),
    (
        "binary",
        "image.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "its content is not one the loader reads (not a workbook, CSV or Parquet file, nor "
        "text); export the figures as .xlsx, CSV or Parquet",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "problem"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_refused_kinds_say_what_the_file_is_and_what_to_do(
    name: str, data: bytes, problem: str
) -> None:
    exc = refusal(name, data)
    assert exc.location == Location(name)
    assert exc.problem == f"{NOT_READABLE}: {problem}"
    assert "Cannot detect file format" not in str(exc)


def test_a_refusal_masks_personal_data_in_the_file_name() -> None:
    exc = refusal("from jane.doe@example.com export.tsv", b"a\tb\n1\t2\n")
    assert exc.location == Location("from [email address removed] export.tsv")


def _xlsx_like(content_types: bytes, workbook_part: str = "xl/workbook.xml") -> bytes:
    return _zip({"[Content_Types].xml": content_types, workbook_part: b"<workbook/>"})


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda p: xlsx(p, {"Data": portal_rows()}).read_bytes(), FileFormat.XLSX),
        (lambda p: xls(p, {"Data": portal_rows()}).read_bytes(), FileFormat.XLS),
        (
            lambda _p: _xlsx_like(
                b'<Types><Override ContentType="application/vnd.ms-excel.sheet.'
                b'macroEnabled.main+xml" PartName="/xl/workbook.xml"/></Types>'
            ),
            FileFormat.XLSM,
        ),
        (lambda _p: _xlsx_like(b"<Types/>", "xl/workbook.bin"), FileFormat.XLSB),
        (
            lambda _p: _zip(
                {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""}
            ),
            FileFormat.ODS,
        ),
        (lambda _p: b"PK\x03\x04 a zip signature and noise", FileFormat.XLSX),  # for the guard
    ],
    ids=["xlsx", "xls", "xlsm", "xlsb", "ods", "damaged-zip"],
)
def test_workbook_kinds_are_told_from_their_parts(
    tmp_path: Path, build: Callable[[Path], bytes], expected: FileFormat
) -> None:
    data = build(tmp_path / "book")
    assert detect_format("named.csv", data).format is expected


def test_a_workbook_still_loads_through_parse_file(tmp_path: Path) -> None:
    for writer, kind in ((xlsx, FileFormat.XLSX), (xls, FileFormat.XLS)):
        data = writer(tmp_path / f"b.{kind}", {"Data": portal_rows()}).read_bytes()
        parsed = parse("export.csv", data)  # the name says CSV, the content a workbook
        assert parsed.file_format is kind
        check_typed(parsed, "Data")


# --- the bulk typing of text cells -------------------------------------------------------


def _random_texts(kind: str, rng: random.Random) -> list[object]:
    if kind == "date":
        return [
            f"{rng.randint(1000, 9999)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            for _ in range(500)
        ]
    if kind == "count":
        return [str(rng.randint(0, 10 ** rng.randint(1, 15) - 1)) for _ in range(500)]
    return [
        f"{'-' if rng.random() < 0.2 else ''}{rng.randint(0, 10 ** rng.randint(1, 15))}"
        + (f".{rng.randint(0, 10**17):017d}"[: rng.randint(2, 19)] if rng.random() < 0.9 else "")
        for _ in range(500)
    ]


@pytest.mark.parametrize("kind", ["date", "count", "number"])
def test_text_cells_typed_in_bulk_read_as_their_parser_reads_each(kind: str) -> None:
    rng = random.Random(kind)
    for _ in range(20):
        cells = _random_texts(kind, rng)
        bulk = _BULK[kind](cells)  # type: ignore[index]
        assert bulk is not None, cells[:5]
        assert bulk.to_pylist() == [PARSERS[kind](c)[0] for c in cells]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "odd"),
    [
        ("date", "2023-02-29"),  # no such day: the parser says why
        ("date", "0000-01-01"),
        ("date", "2024-9-30"),
        ("count", "1234567890123456"),  # 16 digits: the parser goes through a float
        ("count", "-5"),
        ("count", " 5"),
        ("number", "1e3"),
        ("number", "5."),
        ("number", ""),
    ],
)
def test_text_the_bulk_reading_leaves_to_the_parser(kind: str, odd: str) -> None:
    typical = {"date": "2024-09-30", "count": "478", "number": "0.80083857442348"}[kind]
    assert _BULK[kind]([typical, odd]) is None  # type: ignore[index]
    assert _BULK[kind]([typical, typical]) is not None  # type: ignore[index]


# --- through the loader ------------------------------------------------------------------


class _RecordingLake(LocalLake):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: list[tuple[str, str]] = []

    def write_bytes(self, key: str, data: bytes, content_type: str) -> str | None:
        self.writes.append((key, content_type))
        return super().write_bytes(key, data, content_type)


@pytest.mark.parametrize(
    ("name", "build", "extension", "content_type", "sheet"),
    [
        ("portal.csv", lambda: csv_bytes(portal_rows()), ".csv", "text/csv", "csv"),
        ("renamed.xlsx", lambda: csv_bytes(portal_rows()), ".csv", "text/csv", "csv"),
        (
            "portal.parquet",
            typed_parquet,
            ".parquet",
            "application/vnd.apache.parquet",
            "parquet",
        ),
    ],
)
def test_load_lands_csv_and_parquet_like_a_workbook(
    tmp_path: Path,
    name: str,
    build: Callable[[], bytes],
    extension: str,
    content_type: str,
    sheet: str,
) -> None:
    path = tmp_path / "in" / name
    path.parent.mkdir()
    data = build()
    path.write_bytes(data)
    lake = _RecordingLake(tmp_path / "lake")
    summary = load_workbooks([path], lake, clock=lambda: FIXED)
    sha = hashlib.sha256(data).hexdigest()
    landing = f"landing/{DATASET}/{sha}{extension}"
    landed = [(key, kind) for key, kind in lake.writes if key.startswith("landing/")]
    assert landed == [(landing, content_type)]
    assert (tmp_path / "lake" / landing).read_bytes() == data  # the original bytes
    assert (manifest_key(sha), "application/json") in lake.writes
    assert [(f.name, f.status, f.rows) for f in summary.files] == [(name, "landed", 3)]

    record = manifest(tmp_path / "lake", sha)
    assert record["landing_key"] == landing
    assert [(s["name"], s["header_row"], s["rows"]) for s in record["sheets"]] == [(sheet, 1, 3)]
    table = raw_table(tmp_path / "lake").sort_by("source_row_number")
    assert table["callsoffered"].to_pylist() == [1001, 1002, 1003]
    assert set(table["source_file_name"].to_pylist()) == {name}
    assert set(table["source_file_sha256"].to_pylist()) == {sha}
    assert set(table["source_sheet"].to_pylist()) == {sheet}
    assert table["source_row_number"].to_pylist() == [2, 3, 4]
    audit_key = summary.audit_key
    assert audit_key is not None
    audit = json.loads((tmp_path / "lake" / audit_key).read_text())
    assert [(f["file_name"], f["sha256"], f["rows"]) for f in audit["files"]] == [(name, sha, 3)]


def test_dap_load_refuses_a_tsv_with_exit_1_and_nothing_written(tmp_path: Path) -> None:
    tsv = tmp_path / "export.xlsx"
    tsv.write_bytes(csv_bytes(portal_rows(), delimiter="\t"))
    result = run_dap("load", tsv, "--lake", tmp_path / "lake")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"dap load: error: export.xlsx: {NOT_READABLE}: it is tab-delimited text (TSV); "
        "save it as CSV or .xlsx"
    )
    written = tree_state(tmp_path / "lake")
    assert [
        k for k in written if k.startswith(("landing/", "_manifests/", f"raw/{DATASET}/"))
    ] == []


def test_dap_load_help_names_the_formats() -> None:
    result = run_dap("load", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for phrase in [
        "Formats accepted, told from the content, never from the file name",
        ".xlsx, .xlsm, .xlsb and legacy .xls; OpenDocument .ods",
        "CSV, as the portal exports it: ';' or ',' delimited, UTF-8 with or without a "
        "byte-order mark",
        "Parquet (the portal's Parquet export)",
        "Any other file stops the load with a message saying what it is and what to do",
        "TSV (save it as CSV or .xlsx)",
    ]:
        assert phrase in text, phrase
