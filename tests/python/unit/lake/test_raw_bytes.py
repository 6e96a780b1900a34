"""A raw file's bytes do not depend on how its columns were held on the way: the loader
hands Parquet its constant text columns dictionary-encoded (dap.lake.load._parquet_bytes)
and must write exactly what ``pq.write_table`` writes for the same rows cast to the raw
schema. ``dap repair`` refuses a rebuild that does not reproduce a file's recorded sha256,
so a lake written before this must still be repairable."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dap.ingest.workbook import parse_workbook
from dap.ingest.workbook._parsed import ParsedWorkbook
from dap.lake import load
from dap.schema import RAW_SCHEMA
from testkit.workbooks import HEADER, rows_for, xlsx

SHA = "ab" * 32
AT = datetime(2024, 5, 6, 7, 8, 9)


def _plain_bytes(parsed: ParsedWorkbook) -> list[bytes]:
    """Each year's file as the loader wrote it before: every column decoded to the raw
    schema, then ``pq.write_table``."""
    files = []
    for _, typed in parsed.by_year(SHA):
        n = typed.num_rows
        part = typed.append_column(
            pa.field("ingested_at", pa.timestamp("ms"), nullable=False),
            pa.repeat(pa.scalar(AT, pa.timestamp("ms")), n),
        ).append_column(
            pa.field("extract_rows", pa.int64(), nullable=False),
            pa.repeat(pa.scalar(parsed.rows, pa.int64()), n),
        )
        sink = io.BytesIO()
        pq.write_table(part.cast(RAW_SCHEMA), sink, compression="snappy", write_statistics=True)
        files.append(sink.getvalue())
    return files


def _parsed(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> ParsedWorkbook:
    path = xlsx(tmp_path / "book.xlsx", sheets)
    return parse_workbook(path.name, path.read_bytes())


def _some_measures(first: date, count: int) -> list[list[object]]:
    """A sheet carrying two of the measures only (its carried_columns differ)."""
    rows = [[r[0], r[1], r[3]] for r in rows_for(first, count)]
    return [["Date", "CallsOffered", "CallsAbandoned"], *rows]


@pytest.mark.parametrize(
    "sheets",
    [
        # one sheet over three years: every constant column has one value a file
        {"Metrics": [HEADER, *rows_for(date(2020, 12, 1), 800)]},
        # two sheets in the same years, with different names and measures: two values
        {
            "Metrics": [HEADER, *rows_for(date(2021, 1, 1), 40)],
            "More": _some_measures(date(2021, 3, 1), 40),
        },
        # the same, the second sheet's days first: its values come first in the file
        # though the first sheet's come first in the column's dictionary
        {
            "Metrics": [HEADER, *rows_for(date(2021, 3, 1), 40)],
            "More": _some_measures(date(2021, 1, 1), 40),
        },
        # rows without a readable date: the year-less file
        {"Metrics": [HEADER, *rows_for(date(2022, 1, 1), 5), ["not a date", 1, 1, 0, 1.0, 0.5, 9]]},
    ],
    ids=["one-sheet", "two-sheets", "two-sheets-second-first", "no-date"],
)
def test_raw_files_are_the_bytes_pq_write_table_makes(tmp_path, sheets) -> None:
    parsed = _parsed(tmp_path, sheets)
    built = [obj.data for obj in load.build_raw_objects(parsed, SHA, AT)]
    assert built == _plain_bytes(parsed)
    assert len(built) >= 1


def test_a_constant_column_reaches_parquet_dictionary_encoded(tmp_path, monkeypatch) -> None:
    parsed = _parsed(tmp_path, {"Metrics": [HEADER, *rows_for(date(2020, 1, 1), 30)]})
    seen: list[pa.Schema] = []
    real = load._parquet_bytes
    monkeypatch.setattr(load, "_parquet_bytes", lambda t: seen.append(t.schema) or real(t))
    load.build_raw_objects(parsed, SHA, AT)
    encoded = {f.name for f in seen[0] if pa.types.is_dictionary(f.type)}
    assert encoded == {"source_file_name", "source_file_sha256", "source_sheet", "carried_columns"}


@pytest.mark.parametrize(
    ("indices", "dictionary"),
    [
        ([1, 1, 0, 0], ["b", "a"]),  # two values, the dictionary not in the rows' order
        ([1, 1, 1, 1], ["b", "a"]),  # one value used, two in the dictionary
    ],
)
def test_only_a_true_constant_is_written_dictionary_encoded(indices, dictionary) -> None:
    n = len(indices)
    columns = {}
    for field in RAW_SCHEMA:
        if field.nullable:
            columns[field.name] = pa.nulls(n, field.type)
        elif pa.types.is_timestamp(field.type):
            columns[field.name] = pa.repeat(pa.scalar(AT, field.type), n)
        else:  # "0" as the field's type: the raw schema refuses nulls here
            columns[field.name] = pa.repeat(pa.scalar("0"), n).cast(field.type)
    columns["source_sheet"] = pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(dictionary)
    )
    table = pa.table(columns)
    sink = io.BytesIO()
    pq.write_table(table.cast(RAW_SCHEMA), sink, compression="snappy", write_statistics=True)
    assert load._parquet_bytes(table.cast(load._encoding_schema(table))) == sink.getvalue()


@pytest.mark.parametrize("together", [True, False], ids=["years-together", "years-interleaved"])
def test_each_year_holds_its_rows_in_workbook_order(tmp_path, together) -> None:
    """The parts by year: ascending years, the rows without a date last, each year's rows
    in the order the workbook has them, whether a year's rows stand together (a slice of
    the rows) or are spread out (put in year order first)."""
    days = rows_for(date(2019, 12, 20), 30)  # 2019 and 2020
    rows = days if together else [row for pair in zip(days[:15], days[15:], strict=True) for row in pair]
    rows = [*rows, ["not a date", 1, 1, 0, 1.0, 0.5, 9]]  # a row without a readable date
    path = tmp_path / "book.xlsx"
    xlsx(path, {"Metrics": [HEADER, *rows]})
    parsed = parse_workbook(path.name, path.read_bytes(), pii="mask")
    years = [row[0].year if isinstance(row[0], date) else None for row in rows]
    expected = {
        year: [r + 2 for r, y in enumerate(years) if y == year] for year in dict.fromkeys(years)
    }
    parts = [(year, part.column("source_row_number").to_pylist()) for year, part in parsed.by_year(SHA)]
    assert [year for year, _ in parts] == [2019, 2020, None]
    assert dict(parts) == expected
