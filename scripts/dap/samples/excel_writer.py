"""Byte-deterministic workbook writers: `.xlsx` through openpyxl, legacy `.xls` through xlwt.

The same rows always give the same bytes, so generated samples and fixtures can be compared
by checksum. For `.xlsx` that means pinning the document properties (openpyxl stamps the
current time into ``docProps/core.xml``) and rebuilding the zip with fixed entry order,
timestamps, permissions and compression level. The deflate stream itself comes from the
platform's zlib; every CPython build ships a zlib producing the same output at a given level.
openpyxl writes numbers with ``%.16g``, which can drop the 17th significant digit; those
cells get the exact ``repr`` of the float put back, so values round-trip unchanged.
xlwt's BIFF8/OLE2 output contains no timestamps and is deterministic as written.

Both writers replace the target atomically: a temporary file in the same directory is
written completely and then renamed over ``path``.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlwt
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

Cell = date | datetime | int | float | str | None
Sheets = Mapping[str, Sequence[Sequence[Cell]]]
# zip entry name -> cell reference -> exact number text
NumberPatches = dict[str, dict[str, str]]

FIXED_TIMESTAMP = datetime(2000, 1, 1)  # workbook properties are naive UTC
CREATOR = "dap"
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_EXTERNAL_ATTR = 0o100644 << 16  # regular file, rw-r--r--
ZIP_CREATE_SYSTEM = 3  # Unix, whatever the writing platform
ZIP_COMPRESS_LEVEL = 6
DEFAULT_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def write_xlsx(
    path: Path,
    sheets: Sheets,
    *,
    date_format: str = "yyyy-mm-dd",
    datetime_format: str = DEFAULT_DATETIME_FORMAT,
) -> None:
    """Write ``sheets`` (name -> rows, first row the header) as a deterministic `.xlsx`."""
    _check_sheets(sheets)
    wb = openpyxl.Workbook(write_only=True)
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    patches: NumberPatches = {}
    for index, (name, rows) in enumerate(sheets.items(), start=1):
        ws = wb.create_sheet(title=name)
        for row in rows:
            ws.append([_xlsx_cell(ws, value, date_format, datetime_format) for value in row])
        patches[f"xl/worksheets/sheet{index}.xml"] = _lossy_floats(rows)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        # Not openpyxl.save_workbook: it overwrites `modified` with the current time.
        ExcelWriter(wb, archive).save()
    _atomic_write(path, _normalise_zip(raw.getvalue(), patches))


def write_xls(
    path: Path,
    sheets: Sheets,
    *,
    date_format: str = "YYYY-MM-DD",
    datetime_format: str = "YYYY-MM-DD HH:MM:SS",
) -> None:
    """Write ``sheets`` as a legacy BIFF8 `.xls` (at most 65,536 rows per sheet)."""
    _check_sheets(sheets)
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str=date_format)
    datetime_style = xlwt.easyxf(num_format_str=datetime_format)
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    ws.write(r, c, value, datetime_style)
                elif isinstance(value, date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    raw = io.BytesIO()
    wb.save(raw)
    _atomic_write(path, raw.getvalue())


def _check_sheets(sheets: Sheets) -> None:
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")


def _xlsx_cell(ws: object, value: Cell, date_format: str, datetime_format: str) -> object:
    """Dates become real Excel dates with a number format; other values pass through."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = datetime_format
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = date_format
        return cell
    return value


def _lossy_floats(rows: Sequence[Sequence[Cell]]) -> dict[str, str]:
    """Cells whose float openpyxl would shorten (it writes ``%.16g``), with their exact repr."""
    lossy: dict[str, str] = {}
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            lossless = not isinstance(value, float) or not math.isfinite(value)
            if not lossless and float(f"{value:.16g}") != value:
                lossy[f"{get_column_letter(c)}{r}"] = repr(value)
    return lossy


_NUMBER_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><v>([^<]*)</v>')


def _patch_numbers(xml: bytes, exact: dict[str, str]) -> bytes:
    """Put back the full-precision text of the cells listed in ``exact``."""
    if not exact:
        return xml

    def fix(match: re.Match[bytes]) -> bytes:
        text = exact.get(match.group(1).decode("ascii"))
        if text is None:
            return match.group(0)
        return b'<c r="%s"%s><v>%s</v>' % (match.group(1), match.group(2), text.encode("ascii"))

    return _NUMBER_CELL.sub(fix, xml)


def _normalise_zip(data: bytes, patches: NumberPatches) -> bytes:
    """Rebuild a zip with fixed entry order, timestamps, attributes and compression."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        names = src.namelist()
        # [Content_Types].xml first, as Office writes it; the rest in name order.
        ordered = sorted(names, key=lambda n: (n != "[Content_Types].xml", n))
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ZIP_EXTERNAL_ATTR
            info.create_system = ZIP_CREATE_SYSTEM
            content = _patch_numbers(src.read(name), patches.get(name, {}))
            dst.writestr(info, content, compresslevel=ZIP_COMPRESS_LEVEL)
    return out.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
