"""Which date system a workbook counts its serial numbers in, read from the file itself.

The parser (python-calamine) turns date-formatted cells into dates in the right system,
but a date typed as a bare serial number (a Date column in General format) reaches the
loader as a number, and a workbook saved with Excel's 1904 date system ("Use 1904 date
system", old Mac workbooks) counts from 1904-01-01: read as 1900 serials, every day would
land 1,462 days early. So the flag is read here, per format:

- ``.xlsx``/``.xlsm`` (transitional or Strict): ``<workbookPr date1904="1"/>`` (or
  ``"true"``) in the workbook part;
- ``.xlsb``: the ``fDate1904`` bit of the BrtWbProp record in ``xl/workbook.bin``;
- ``.xls``: the DATEMODE record (0x0022) of the BIFF8 workbook globals;
- ``.ods``: ``<table:null-date table:date-value="..."/>`` in ``content.xml`` (any day zero,
  1899-12-30 when absent).

Python has no reader of these flags among the project's dependencies (xlrd reads the
``.xls`` one but is not a dependency, openpyxl reads ``.xlsx`` only and loads the whole
workbook), so the few bytes are read here. The container guard has already checked the
archive (:mod:`dap.ingest.guard`) when this runs; the reads are bounded all the same.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from datetime import date
from xml.etree import ElementTree

from dap.ingest.cells import EXCEL_1900, EXCEL_1904, DateSystem

_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_LIMIT = 8 * 1024 * 1024
"""At most this much of a workbook part is read looking for the flag."""
_CHUNK = 64 * 1024
_OFFICE_DOCUMENT = "/officeDocument"


def detect_date_system(data: bytes) -> DateSystem:  # noqa: PLR0911 - one return per format
    """The date system ``data`` (a workbook's bytes) counts serials in; Excel's 1900
    system when the file says nothing (or is not a workbook this module knows)."""
    if data.startswith(_CFB_MAGIC):
        return _xls_date_system(data)
    if not data.startswith(_ZIP_MAGIC):
        return EXCEL_1900
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "content.xml" in names and "xl/workbook.xml" not in names:
                return _ods_date_system(archive)
            part = _workbook_part(archive, names)
            if part is None:
                return EXCEL_1900
            if part.endswith(".bin"):
                return _xlsb_date_system(archive, part)
            return _xlsx_date_system(archive, part)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError):
        return EXCEL_1900  # a damaged file: the parser says what is wrong with it


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part named by the package's relationships (``xl/workbook.xml``,
    ``xl/workbook.bin``, or wherever a tool put it)."""
    if "_rels/.rels" in names:
        rels = _xml_root(archive, "_rels/.rels")
        if rels is not None:
            for rel in rels.iter():
                if rel.tag.rsplit("}", 1)[-1] == "Relationship" and rel.get("Type", "").endswith(
                    _OFFICE_DOCUMENT
                ):
                    target = posixpath.normpath(rel.get("Target", "").lstrip("/"))
                    if target in names:
                        return target
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if candidate in names:
            return candidate
    return None


def _xml_root(archive: zipfile.ZipFile, member: str) -> ElementTree.Element | None:
    info = archive.getinfo(member)
    if info.file_size > _XML_LIMIT:
        return None
    text = archive.read(info)
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        return None  # no workbook part has one; refusing them rules out entity expansion
    try:
        return ElementTree.fromstring(text)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError:
        return None


def _pull(archive: zipfile.ZipFile, member: str, stop: set[str]) -> dict[str, dict[str, str]]:
    """The attributes (local names) of the elements of ``member`` met before one whose
    local name is in ``stop``, read a chunk at a time (``content.xml`` holds every cell)."""
    seen: dict[str, dict[str, str]] = {}
    parser = ElementTree.XMLPullParser(events=("start",))
    read = 0
    with archive.open(member) as stream:
        while read < _XML_LIMIT and (chunk := stream.read(_CHUNK)):
            if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
                return seen
            read += len(chunk)
            try:
                parser.feed(chunk)
                for event in parser.read_events():
                    element = event[-1] if isinstance(event, tuple) else None
                    if not isinstance(element, ElementTree.Element):
                        continue
                    local = element.tag.rsplit("}", 1)[-1]
                    if local in stop:
                        return seen
                    seen.setdefault(
                        local, {k.rsplit("}", 1)[-1]: v for k, v in element.attrib.items()}
                    )
            except ElementTree.ParseError:
                return seen
    return seen


def _xlsx_date_system(archive: zipfile.ZipFile, part: str) -> DateSystem:
    properties = _pull(archive, part, {"sheets", "sheet"}).get("workbookPr", {})
    flag = properties.get("date1904", "").strip().lower()
    return EXCEL_1904 if flag in {"1", "true"} else EXCEL_1900


def _ods_date_system(archive: zipfile.ZipFile) -> DateSystem:
    """The spreadsheet's day zero (``table:null-date``), read before its first table."""
    settings = _pull(archive, "content.xml", {"table"}).get("null-date", {})
    value = settings.get("date-value", "")
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip()[:10]) if value else None
    if match is None:
        return EXCEL_1900
    try:
        epoch = date(*(int(part) for part in match.groups()))
    except ValueError:
        return EXCEL_1900
    if epoch == EXCEL_1900.epoch:
        return EXCEL_1900
    if epoch == EXCEL_1904.epoch:
        return EXCEL_1904
    return DateSystem(f"day zero {epoch.isoformat()}", epoch, 0)


_BRT_WB_PROP = 0x0099
_BRT_BEGIN_BUNDLE_SHS = 0x008F
_XLSB_RECORDS = 64
"""BrtWbProp comes among the workbook part's first records (after BrtBeginBook,
BrtFileVersion and a few optional ones); no more than this many are read."""


def _xlsb_date_system(archive: zipfile.ZipFile, part: str) -> DateSystem:
    with archive.open(part) as stream:
        head = stream.read(_CHUNK)
    flags = xlsb_workbook_flags(head)
    return EXCEL_1904 if flags is not None and flags & 1 else EXCEL_1900


def xlsb_workbook_flags(head: bytes) -> int | None:
    """The BrtWbProp flags of an ``xl/workbook.bin`` (its first bytes), or None if the
    record is not among the first ones. [MS-XLSB]: a record is its type and size, each a
    little-endian base-128 number (type at most 2 bytes, size at most 4), then the data;
    BrtWbProp's data starts with 4 bytes of flags whose lowest bit is ``fDate1904``."""
    pos = 0
    for _ in range(_XLSB_RECORDS):
        kind, pos = _varint(head, pos, 2)
        size, pos = _varint(head, pos, 4)
        if kind is None or size is None:
            return None
        if kind == _BRT_WB_PROP:
            if pos + 4 > len(head):
                return None
            flags: int = struct.unpack_from("<I", head, pos)[0]
            return flags
        if kind == _BRT_BEGIN_BUNDLE_SHS:
            return None
        pos += size
    return None


def _varint(data: bytes, pos: int, most: int) -> tuple[int | None, int]:
    value = 0
    for shift in range(most):
        if pos >= len(data):
            return None, pos
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            return value, pos
    return value, pos


_BIFF8_GLOBALS_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00"
_DATEMODE = 0x0022
_BOUNDSHEET = 0x0085
_EOF_RECORD = 0x000A
_BIFF_SPAN = 2048
"""DATEMODE is among the workbook globals' first records, a few hundred bytes after BOF
and before the first BOUNDSHEET; the walk stops within this many bytes."""


def _xls_date_system(data: bytes) -> DateSystem:
    """The DATEMODE record of a legacy ``.xls``: 1 for the 1904 system.

    The records are walked from the workbook globals' BOF, as the container guard walks
    them for FILEPASS (:mod:`dap.ingest.guard._ole`): the Workbook stream starts on a
    sector of its own (Excel and xlwt pad it past the 4,096 bytes that would put it in the
    mini stream) and its first records lie well inside that stream's first sectors."""
    start = data.find(_BIFF8_GLOBALS_BOF)
    if start < 0:
        return EXCEL_1900
    flag = biff_date_mode(data[start : start + _BIFF_SPAN])
    return EXCEL_1904 if flag == 1 else EXCEL_1900


def biff_date_mode(globals_head: bytes) -> int | None:
    """DATEMODE's value among the records of ``globals_head`` (the workbook globals from
    their BOF), or None if it is not there before the first BOUNDSHEET."""
    pos = 0
    while pos + 4 <= len(globals_head):
        kind, length = struct.unpack_from("<HH", globals_head, pos)
        if kind == _DATEMODE and length >= 2 and pos + 6 <= len(globals_head):
            mode: int = struct.unpack_from("<H", globals_head, pos + 4)[0]
            return mode
        if kind in (_BOUNDSHEET, _EOF_RECORD):
            return None
        pos += 4 + length
    return None
