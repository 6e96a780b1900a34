"""Reading a CSV file (the portal's export: ``;`` and a byte-order mark by default, or
``,``) as a workbook of one sheet, ``csv``.

Python's :mod:`csv` module splits the records: it takes rows of any width, so title rows
above the header read as they do in a workbook, and it keeps every value as the text
written, so a cell that cannot be read is quoted as it stands in the file. (pyarrow's
CSV reader is faster at splitting but wants one width for every row and types columns
as a whole.) Row numbers are record numbers, the header's (or the first title's) being 1,
as a spreadsheet tool shows the file; they are the line numbers unless a quoted value
spans lines.

Memory: the text is decoded and split as it is read, a batch of rows at a time, so beyond
the file's bytes a row costs what its typed values do. A file is refused past
:data:`~dap.ingest.formats.MAX_ROWS` rows or :data:`~dap.ingest.formats.MAX_COLUMNS`
columns in a row, as a sheet is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import cast

from dap.errors import Location, WorkbookError
from dap.ingest.formats._detect import Detected
from dap.ingest.formats._limits import MAX_COLUMNS, MAX_ROWS
from dap.ingest.pii import PiiPolicy, mask_pii
from dap.ingest.workbook import ParsedWorkbook, parse_table

SHEET = "csv"
"""The sheet name a CSV file's rows land with (``source_sheet``) and messages name."""


def read_csv(
    file_name: str, data: bytes, detected: Detected, *, pii: PiiPolicy = "stop"
) -> ParsedWorkbook:
    """Parse CSV bytes (``detected`` gives their encoding and delimiter)."""
    encoding, delimiter = detected.encoding or "utf-8", detected.delimiter or ";"
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    rows = _records(mask_pii(file_name), stream, delimiter)
    return parse_table(file_name, SHEET, rows, pii=pii)


def _records(shown_name: str, stream: io.TextIOWrapper, delimiter: str) -> Iterator[list[object]]:
    """The file's records as lists of text, from record 1; :class:`WorkbookError` for a
    record that cannot be split or a file too large to hold."""
    reader = cast(Iterator[list[object]], csv.reader(stream, delimiter=delimiter, strict=False))
    number = 0
    try:
        for record in reader:
            number += 1
            if number > MAX_ROWS:
                raise WorkbookError(
                    Location(shown_name, SHEET, number),
                    f"the file has more than {MAX_ROWS:,} rows, more than a sheet holds; "
                    "split it into files of fewer rows",
                )
            if len(record) > MAX_COLUMNS:
                raise WorkbookError(
                    Location(shown_name, SHEET, number),
                    f"the row has {len(record):,} columns, more than the {MAX_COLUMNS:,} a "
                    "sheet holds; is the delimiter right?",
                )
            yield record
    except csv.Error as exc:
        raise WorkbookError(
            Location(shown_name, SHEET, number + 1), f"the CSV cannot be read here ({exc})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise WorkbookError(
            Location(shown_name, SHEET, number + 1),
            f"the text is not {stream.encoding} ({exc.reason}); save it as CSV UTF-8",
        ) from exc
