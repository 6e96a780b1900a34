"""Zip archives (`.xlsx`, `.xlsm`, `.xlsb`, `.ods`): the archive's limits, every member
inflated and verified, and each worksheet measured on the way.

- **The archive**: at most :data:`MAX_MEMBERS` members, at most :data:`MAX_UNCOMPRESSED`
  bytes declared in all, and no member larger than :data:`RATIO_FLOOR` bytes declared with
  more than :data:`MAX_RATIO` times its compressed size (XML worksheets of real figures
  compress 5-20:1; 100:1 leaves room for repetitive sheets, deflate's own limit is about
  1,032:1). Only the methods Excel uses (stored, deflate) and no zip encryption.
- **Every member is inflated here** in 1 MiB pieces and must come to exactly its declared
  size with the declared CRC-32 (inflated and checked with ISA-L, through ``isal``'s
  zlib-compatible module: about 2.5x faster than zlib at inflating a worksheet and 6x at
  its CRC, on every `.xlsx` load's path). A member whose header lies about its size is
  stopped as soon as it inflates past it, so memory stays bounded whatever the file says.
  A large member is inflated by a helper thread (:mod:`._read_ahead`) while the pieces
  before it are scanned.
- **Each worksheet** (found through ``xl/workbook.xml`` and its relationships) and the
  shared string table are measured in the same pass (:mod:`._sheet_xml`), and refused
  when they exceed its limits. Every other XML part is measured as a worksheet too (its
  message names the zip member): the parser may find a sheet the map read here misses.

For `.xlsb` and `.ods` the archive limits apply; their sheets are binary or ODF and are
not measured (calamine limits an `.ods` sheet to 100 million cells itself).
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Callable, Iterator
from typing import cast
from xml.etree import ElementTree

from isal import isal_zlib

from dap.errors import Location, WorkbookError
from dap.ingest.guard._read_ahead import _READ_AHEAD_CHUNK, _READ_AHEAD_FLOOR, _read_ahead
from dap.ingest.guard._sheet_xml import (
    MAX_EXCEL_COLUMNS,
    MAX_EXCEL_ROWS,
    MAX_SHARED_STRINGS,
    MAX_SHEET_CELLS,
    ROW_ORDER_MIN_BYTES,
    SheetCells,
    _QuickSheetScan,
    _SharedStrings,
    _SheetScan,
)
from dap.ingest.pii import column_letter, mask_pii

MAX_MEMBERS = 10_000
"""Members of a workbook zip; Excel writes a few dozen."""
MAX_UNCOMPRESSED = 1 << 30
"""Declared uncompressed bytes of all members together (1 GiB). A full 1,048,576-row
sheet of the export's seven columns is about 260 MB of XML."""
MAX_RATIO = 100
"""Largest uncompressed-to-compressed ratio of a member above :data:`RATIO_FLOOR`."""
RATIO_FLOOR = 10 << 20
"""Members declaring less than this (10 MiB) are not held to :data:`MAX_RATIO`."""
_CHUNK = 1 << 20

_ZIP_MAGIC = b"PK\x03\x04"
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)
"""What ISA-L raises on invalid deflate data (its stubs declare it as an instance)."""
_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED

_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "/officeDocument"
_WORKSHEET = "/worksheet"
_SMALL_XML_LIMIT = 16 << 20


class _ZipCheck:
    """One zip archive's check: :meth:`run` raises :class:`WorkbookError` or returns the
    notes on each worksheet's cells, by sheet name."""

    def __init__(self, file_name: str, data: bytes) -> None:
        self.file_name = file_name
        self.data = data
        self.where = Location(file_name)
        self.sheet_parts: dict[str, str] = {}  # member name -> sheet name
        self.notes: dict[str, dict[tuple[int, int], str]] = {}  # sheet name -> its notes
        self.cells: dict[str, SheetCells] = {}  # sheet name -> its cells counted

    def stop(self, member: str | None, problem: str) -> WorkbookError:
        sheet = self.sheet_parts.get(member) if member is not None else None
        location = Location(self.file_name, mask_pii(sheet)) if sheet is not None else self.where
        return WorkbookError(location, problem)

    def run(self) -> dict[str, dict[tuple[int, int], str]]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.data))
            infos = archive.infolist()
        except Exception as exc:  # zipfile raises several kinds for damaged archives
            raise WorkbookError(
                self.where, f"not a readable Excel workbook (damaged zip archive: {exc})"
            ) from exc
        if len(infos) > MAX_MEMBERS:
            raise self.stop(
                None,
                f"the zip archive has {len(infos):,} members, more than the {MAX_MEMBERS:,} "
                "a workbook is allowed; refusing to read it",
            )
        for info in infos:
            self._check_declared(info)
        self.sheet_parts = self._find_sheets(infos)
        # Messages from here on can name the sheet of a worksheet member.
        for info in infos:
            self._check_ratio(info)
        total = sum(info.file_size for info in infos)
        if total > MAX_UNCOMPRESSED:
            raise self.stop(
                None,
                f"the zip archive would inflate to {total:,} bytes, more than the "
                f"{MAX_UNCOMPRESSED:,} allowed (a decompression bomb?); refusing to read it",
            )
        for info in infos:
            sheet = self.sheet_parts.get(info.filename)
            if sheet is not None and info.filename.lower().endswith(".xml"):
                scan = self._scan_sheet(info, sheet)
                if scan.notes:
                    self.notes[sheet] = scan.notes
                self.cells[sheet] = SheetCells(scan.cells, scan.typed, scan.in_row_order)
            elif info.filename.lower().endswith("sharedstrings.xml"):
                strings = _SharedStrings()
                self._inflate(info, strings.feed)
                count = max(strings.count, strings.declared)
                if count > MAX_SHARED_STRINGS:
                    raise self.stop(
                        info.filename,
                        f"{info.filename} holds or declares {count:,} shared strings, more "
                        f"than the {MAX_SHARED_STRINGS:,} allowed; refusing to read it",
                    )
            elif info.filename.lower().endswith(".xml"):
                # A part no worksheet relationship names, measured all the same: the
                # parser may find sheets where the map read here does not (a workbook
                # part with a DTD, which is not read here, or one resolved differently).
                # Other parts hold no cells, so this costs little and refuses nothing real.
                self._scan_sheet(info, info.filename)
            else:
                self._inflate(info, lambda _piece: None)
        return self.notes

    def _scan_sheet(self, info: zipfile.ZipInfo, sheet: str) -> _SheetScan:
        """Measure one worksheet member: the quick scan first; should it find the sheet
        unusual (or too large), the exact scan, which takes another pass."""
        quick = _QuickSheetScan(sheet, row_order=info.file_size >= ROW_ORDER_MIN_BYTES)
        self._inflate(info, quick.feed)
        quick.finish()
        if quick.usual and quick.cells <= MAX_SHEET_CELLS:
            return quick
        scan = _SheetScan(sheet)
        self._inflate(info, scan.feed)
        scan.finish()
        self._check_sheet(info.filename, scan)
        return scan

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.flag_bits & 0x1:
            raise self.stop(
                None, f"zip member {name} is encrypted; save the workbook without a password"
            )
        if info.compress_type not in (_STORED, _DEFLATED):
            raise self.stop(
                None,
                f"not a readable Excel workbook (zip member {name} uses compression method "
                f"{info.compress_type}, which Excel does not write)",
            )

    def _check_ratio(self, info: zipfile.ZipInfo) -> None:
        if info.file_size <= RATIO_FLOOR:
            return
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO:
            raise self.stop(
                info.filename,
                f"zip member {info.filename} would inflate to {info.file_size:,} bytes, "
                f"{ratio:,.0f} times its compressed size (more than {MAX_RATIO}:1: a "
                "decompression bomb?); refusing to read it",
            )

    def _damaged(self, info: zipfile.ZipInfo, why: str) -> WorkbookError:
        return self.stop(
            info.filename,
            f"not a readable Excel workbook (zip member {info.filename} is damaged: {why})",
        )

    def _inflate(self, info: zipfile.ZipInfo, sink: Callable[[bytes], None]) -> None:
        """Inflate one member in pieces into ``sink``, verifying its declared size and
        CRC-32; never more than its declared size is produced."""
        data = self.data
        offset = info.header_offset
        if offset + 30 > len(data) or data[offset : offset + 4] != _ZIP_MAGIC:
            raise self._damaged(info, "its local header is missing")
        name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
        start = offset + 30 + name_length + extra_length
        end = start + info.compress_size
        if end > len(data):
            raise self._damaged(info, "the archive is cut short")
        view = memoryview(data)[start:end]
        if info.compress_type == _STORED:
            if info.compress_size != info.file_size:
                raise self._damaged(info, "its sizes disagree")
            pieces: Iterator[bytes] = (
                bytes(view[pos : pos + _CHUNK]) for pos in range(0, len(view), _CHUNK)
            )
        elif info.file_size > _READ_AHEAD_FLOOR:
            pieces = _read_ahead(self._deflated(info, view, _READ_AHEAD_CHUNK))
        else:
            pieces = self._deflated(info, view, _CHUNK)
        produced = crc = 0
        for piece in pieces:
            produced += len(piece)
            if produced > info.file_size:
                raise self.stop(
                    info.filename,
                    f"zip member {info.filename} inflates to more than the "
                    f"{info.file_size:,} bytes its header declares (a decompression bomb?); "
                    "refusing to read it",
                )
            crc = isal_zlib.crc32(piece, crc)
            sink(piece)
        if produced != info.file_size:
            raise self._damaged(info, f"it inflates to {produced:,} bytes, not {info.file_size:,}")
        if crc != info.CRC:
            raise self._damaged(info, "its CRC-32 does not match")

    def _deflated(self, info: zipfile.ZipInfo, view: memoryview, size: int) -> Iterator[bytes]:
        """The inflated data in pieces of at most ``size`` bytes."""
        inflater = isal_zlib.decompressobj(-isal_zlib.MAX_WBITS)
        pos = 0
        try:
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    yield inflater.decompress(inflater.unconsumed_tail, size)
                elif pos < len(view):
                    yield inflater.decompress(view[pos : pos + size], size)
                    pos += size
                else:
                    raise self._damaged(info, "its compressed data ends early")
        except _INFLATE_ERROR as exc:
            raise self._damaged(info, f"invalid compressed data ({exc})") from exc

    def _read_small(self, info: zipfile.ZipInfo) -> bytes:
        if info.file_size > _SMALL_XML_LIMIT:
            raise self.stop(
                None,
                f"zip member {info.filename} declares {info.file_size:,} bytes, more than "
                f"the {_SMALL_XML_LIMIT:,} allowed for it; refusing to read it",
            )
        pieces: list[bytes] = []
        self._inflate(info, pieces.append)
        return b"".join(pieces)

    def _xml(self, info: zipfile.ZipInfo) -> ElementTree.Element | None:
        """A small XML part as a tree, or None if it is not plain XML (a DTD, say: no
        workbook part has one, and refusing them rules out entity expansion)."""
        text = self._read_small(info)
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            return None
        try:
            return ElementTree.fromstring(text)  # noqa: S314 - DTDs refused above
        except ElementTree.ParseError:
            return None

    def _find_sheets(self, infos: list[zipfile.ZipInfo]) -> dict[str, str]:
        """Worksheet member name -> sheet name, from the package's relationships. Empty
        when the archive is not an SpreadsheetML package (the parser then decides)."""
        by_name = {info.filename: info for info in infos}
        book_path = "xl/workbook.xml"
        root_rels = by_name.get("_rels/.rels")
        tree = self._xml(root_rels) if root_rels is not None else None
        if tree is not None:
            for rel in tree.iter(f"{_PKG_REL_NS}Relationship"):
                if rel.get("Type", "").endswith(_OFFICE_DOCUMENT):
                    book_path = _resolve("", rel.get("Target", ""))
        book_info = by_name.get(book_path)
        folder, base = posixpath.split(book_path)
        rels_info = by_name.get(posixpath.join(folder, "_rels", base + ".rels"))
        if book_info is None or rels_info is None:
            return {}
        book, rels = self._xml(book_info), self._xml(rels_info)
        if book is None or rels is None:
            return {}
        targets = {
            rel.get("Id", ""): _resolve(folder, rel.get("Target", ""))
            for rel in rels.iter(f"{_PKG_REL_NS}Relationship")
            if rel.get("Type", "").endswith(_WORKSHEET)
        }
        parts: dict[str, str] = {}
        for sheet in book.iter():
            if sheet.tag.rsplit("}", 1)[-1] != "sheet":
                continue
            # r:id, in the transitional or the strict namespace
            rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
            target = targets.get(rel_id)
            name = sheet.get("name")
            if target is not None and name is not None and target in by_name:
                parts[target] = name  # an .xlsb's sheets are binary (.bin): named, not scanned
        return parts

    def _check_sheet(self, member: str, scan: _SheetScan) -> None:
        part = "" if member in self.sheet_parts else f"zip member {member}: "
        if scan.max_row > MAX_EXCEL_ROWS or scan.max_column > MAX_EXCEL_COLUMNS:
            raise self.stop(
                member,
                f"{part}the sheet's cells go beyond Excel's last row ({MAX_EXCEL_ROWS:,}) or "
                f"column (XFD, the {MAX_EXCEL_COLUMNS:,}th): they reach row "
                f"{scan.max_row:,} and column {scan.max_column:,}; refusing to read it",
            )
        height, width = scan.height, scan.width
        if scan.cells > MAX_SHEET_CELLS or height * width > MAX_SHEET_CELLS:
            sheet = self.sheet_parts.get(member)
            where = Location(
                self.file_name,
                mask_pii(sheet) if sheet is not None else None,
                height,
                column_letter(width - 1),
            )
            raise WorkbookError(
                where,
                f"{part}the sheet is too large to read: its cells reach row {height:,} and column "
                f"{column_letter(width - 1)} ({height * width:,} cells), and {scan.cells:,} "
                f"cells have content; at most {MAX_SHEET_CELLS:,} are read (Excel's "
                "1,048,576 rows by 16 columns). Delete the stray cells far below or to the "
                "right of the data",
            )


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip member name."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(folder, target))
