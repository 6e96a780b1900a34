"""Telling a file's format from its content, never from its name.

A file is a workbook (.xlsx, .xlsm, .xlsb, .ods: zip archives told apart by their parts;
.xls: an OLE compound file), a Parquet file (``PAR1`` at both ends) or CSV (text whose
first rows split on ``;`` or ``,`` into the metric columns, or into the same number of
columns on every row). Anything else is refused with a message saying what the file is
and what to do with it: tab-delimited text, an Excel 2003 XML spreadsheet, an Apple
Numbers document, JSON, HTML, XML, PDF, a gzip or other zip archive, an empty file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum

from dap.errors import Location, WorkbookError
from dap.ingest.pii import mask_pii
from dap.schema import HEADER_INDEX, normalise_header

NOT_READABLE = "not a readable Excel workbook, CSV or Parquet file"
"""How every refusal begins: then what the file is and what to do."""
SNIFF_BYTES = 64 << 10
"""How much of a text file is read to tell its delimiter."""
SNIFF_ROWS = 20
"""How many rows of a text file are read to tell its delimiter (the header may follow
title rows, as in a workbook)."""
CSV_DELIMITERS = (";", ",")
"""The delimiters of CSV as the portal and spreadsheet tools write it; ``;`` first (the
portal's default)."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_PDF_MAGIC = b"%PDF-"
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SPREADSHEET_ML = "urn:schemas-microsoft-com:office:spreadsheet"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_SMALL_PART = 1 << 20
"""At most this much of a zip member is read to tell the format (the container guard
checks the whole archive afterwards)."""
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f]")
"""Control characters that text files do not hold (tab, line ends, form feed and the
old end-of-file mark ``\\x1a`` are allowed)."""
_JSON_START = re.compile(r"\s*(?:\{\s*(?:\"|\})|\[\s*(?:\{|\[|\]|\"|-?\d))")


class FileFormat(StrEnum):
    """A format the loader reads; the value is the landing copy's extension."""

    XLSX = "xlsx"
    XLSM = "xlsm"
    XLSB = "xlsb"
    XLS = "xls"
    ODS = "ods"
    CSV = "csv"
    PARQUET = "parquet"

    @property
    def extension(self) -> str:
        return f".{self.value}"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def is_workbook(self) -> bool:
        return self not in (FileFormat.CSV, FileFormat.PARQUET)


_CONTENT_TYPES: dict[FileFormat, str] = {
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.XLSM: "application/vnd.ms-excel.sheet.macroEnabled.12",
    FileFormat.XLSB: "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    FileFormat.XLS: "application/vnd.ms-excel",
    FileFormat.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    FileFormat.CSV: "text/csv",
    FileFormat.PARQUET: "application/vnd.apache.parquet",
}


@dataclass(frozen=True)
class Detected:
    """What the content says the file is."""

    format: FileFormat
    encoding: str | None = None
    """CSV: the codec to read it with (``utf-8-sig``, ``utf-16``, ``utf-8`` or ``cp1252``)."""
    delimiter: str | None = None
    """CSV: ``;`` or ``,``."""


def detect_format(file_name: str, data: bytes) -> Detected:
    """The format of ``data``, from its content alone; :class:`WorkbookError` (naming
    ``file_name``, masked here) saying what the file is when it is not one the loader
    reads."""
    where = Location(mask_pii(file_name))
    if not data:
        raise _refuse(where, "the file is empty (0 bytes); download or export it again")
    if data.startswith(_OLE_MAGIC):
        return Detected(FileFormat.XLS)  # the container guard tells an encrypted .xlsx
    if data.startswith(_ZIP_MAGICS):
        return Detected(_zip_format(where, data))
    if data.startswith(_PARQUET_MAGIC):
        if len(data) >= 12 and data.endswith(_PARQUET_MAGIC):
            return Detected(FileFormat.PARQUET)
        raise _refuse(
            where,
            "it is a Parquet file cut short (no footer: a download that stopped?); "
            "download or export it again",
        )
    if data.startswith(_PDF_MAGIC):
        raise _refuse(where, "it is a PDF document; load the figures as CSV, Parquet or .xlsx")
    if data.startswith(_GZIP_MAGIC):
        raise _refuse(where, "it is gzip-compressed; decompress it (gunzip) and load the result")
    return _text_format(where, data)


def _refuse(where: Location, what: str) -> WorkbookError:
    return WorkbookError(where, f"{NOT_READABLE}: {what}")


# --- zip archives ----------------------------------------------------------------------


def _zip_format(where: Location, data: bytes) -> FileFormat:
    """A zip archive's kind, from its parts. An archive that cannot be opened is left to
    the container guard, which says what is damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            found = set(names)
            if "mimetype" in found:
                mimetype = _part(archive, "mimetype").strip()
                if mimetype == _ODS_MIMETYPE:
                    return FileFormat.ODS
                kind = mimetype.decode("ascii", "replace")
                raise _refuse(
                    where,
                    f"it is an OpenDocument file of type {kind!r}, not a spreadsheet; "
                    "save the figures as .ods, .xlsx or CSV",
                )
            if "xl/workbook.bin" in found:
                return FileFormat.XLSB
            if "xl/workbook.xml" in found or any(n.startswith("xl/") for n in names):
                types = "[Content_Types].xml"
                if types in found and b"macroEnabled.main+xml" in _part(archive, types):
                    return FileFormat.XLSM
                return FileFormat.XLSX
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError):
        return FileFormat.XLSX  # damaged or unusual: the guard and the parser say what is wrong
    if any(n.startswith("Index/") or n.endswith(".iwa") for n in names):
        raise _refuse(
            where,
            "it is an Apple Numbers document; export it to .xlsx or CSV from Numbers "
            "(File > Export To)",
        )
    if "word/document.xml" in found or any(n.startswith("ppt/") for n in names):
        raise _refuse(where, "it is a Word or PowerPoint document, not a workbook")
    shown = ", ".join(mask_pii(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    raise _refuse(
        where,
        f"it is a zip archive, not a workbook (it holds {shown or 'nothing'}); "
        "unzip it and load the workbook, CSV or Parquet file inside",
    )


def _part(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first :data:`_SMALL_PART` bytes of a member, however large it claims to be."""
    with archive.open(name) as member:
        return member.read(_SMALL_PART)


# --- text ------------------------------------------------------------------------------


def _text_format(where: Location, data: bytes) -> Detected:
    encoding = _encoding(data)
    if encoding is None:
        raise _refuse(
            where,
            "its content is not one the loader reads (not a workbook, CSV or Parquet file, "
            "nor text); export the figures as .xlsx, CSV or Parquet",
        )
    head = _head(data, encoding)
    start = head.lstrip()[:2048]
    lowered = start.lower()
    if start.startswith("<"):
        if _SPREADSHEET_ML in head:
            raise _refuse(
                where,
                "it is an Excel 2003 XML spreadsheet (SpreadsheetML); open it in a "
                "spreadsheet tool and save it as .xlsx",
            )
        if lowered.startswith("<!doctype html") or "<html" in lowered:
            raise _refuse(
                where,
                "it is an HTML page (an error page or a web page saved under this name?); "
                "download the export again (dap fetch)",
            )
        raise _refuse(where, "it is an XML document, not a spreadsheet; export it as .xlsx or CSV")
    if _JSON_START.match(start):
        raise _refuse(
            where,
            "it is JSON (the portal's JSON export?); download the CSV or Parquet export "
            "instead (dap fetch --format csv)",
        )
    if _CONTROL.search(head):
        raise _refuse(
            where,
            "its content is not one the loader reads (binary data, not a workbook, CSV or "
            "Parquet file); export the figures as .xlsx, CSV or Parquet",
        )
    complete = len(data) <= SNIFF_BYTES
    if complete and not head.strip():
        raise _refuse(where, "the file holds nothing but blank space; download or export it again")
    delimiter = _delimiter(head, complete=complete)
    if delimiter == "\t":
        raise _refuse(where, "it is tab-delimited text (TSV); save it as CSV or .xlsx")
    if delimiter is None:
        raise _refuse(
            where,
            "it is text, but not CSV: its first rows do not split on ';' or ',' into the "
            "metric columns or into columns of one width; save it as CSV or .xlsx",
        )
    return Detected(FileFormat.CSV, encoding, delimiter)


def _encoding(data: bytes) -> str | None:
    """The codec that reads all of ``data`` as text, or None for binary data.

    A byte-order mark decides; otherwise UTF-8 if every byte sequence is valid UTF-8,
    else Windows-1252 (what spreadsheet tools on Windows write as "CSV"), else None."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec if _decodes(data, codec) else None
    if b"\x00" in data[:SNIFF_BYTES]:
        return None
    if data.isascii() or _decodes(data, "utf-8"):
        return "utf-8"
    return "cp1252" if _decodes(data, "cp1252") else None


def _decodes(data: bytes, codec: str) -> bool:
    """Whether ``data`` is valid in ``codec``, decoded a piece at a time (the text is not
    kept)."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)
    step = 1 << 20
    try:
        for at in range(0, len(view), step):
            decoder.decode(view[at : at + step], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _head(data: bytes, encoding: str) -> str:
    """The first :data:`SNIFF_BYTES` or so of the text (whole characters)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    return str(decoder.decode(data[:SNIFF_BYTES], final=len(data) <= SNIFF_BYTES))


def _delimiter(head: str, *, complete: bool) -> str | None:
    """``;``, ``,`` or a tab: the delimiter whose split of the first rows finds the most
    metric columns in one row (at least two), or failing that the one that splits every
    row into the same number of columns (at least two); None if neither."""
    text = head if complete else head[: head.rfind("\n") + 1] or head
    best: tuple[int, str] | None = None
    widths: dict[str, set[int]] = {}
    for delimiter in (*CSV_DELIMITERS, "\t"):
        rows = _first_rows(text, delimiter)
        for row in rows:
            named = {HEADER_INDEX.get(normalise_header(cell)) for cell in row} - {None}
            if len(named) >= 2 and (best is None or len(named) > best[0]):
                best = (len(named), delimiter)
        widths[delimiter] = {len(row) for row in rows if any(cell.strip() for cell in row)}
    if best is not None:
        return best[1]
    even = [(min(w), d) for d, w in widths.items() if len(w) == 1 and min(w) >= 2]
    return max(even, key=lambda found: found[0])[1] if even else None


def _first_rows(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= SNIFF_ROWS:
                break
    except csv.Error:
        pass  # what was read so far decides
    return rows
