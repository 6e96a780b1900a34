"""Checks on a workbook's container before any parser reads it.

The parser (calamine, in Rust) trusts the file: it inflates every zip member in full and
allocates a cell for every position between a sheet's first and last cell. A small file
can therefore make it use any amount of memory (a 1 MB zip that inflates to gigabytes,
or one cell at ``XFD1048576`` that asks for 17 billion cells), and an allocation that
fails aborts the process. So before a workbook is parsed:

- **Office encryption**: a password-protected `.xlsx` is not a zip but an OLE compound
  file holding an ``EncryptedPackage`` stream; a protected `.xls` has a ``FILEPASS``
  record at the start of its workbook stream. Either is refused with a message saying so.
- **The zip archive** (`.xlsx`, `.xlsm`, `.xlsb`, `.ods`): at most :data:`MAX_MEMBERS`
  members, at most :data:`MAX_UNCOMPRESSED` bytes declared in all, and no member larger
  than :data:`RATIO_FLOOR` bytes declared with more than :data:`MAX_RATIO` times its
  compressed size (XML worksheets of real figures compress 5-20:1; 100:1 leaves room for
  repetitive sheets, deflate's own limit is about 1,032:1). Only the methods Excel uses
  (stored, deflate) and no zip encryption.
- **Every member is inflated here** in 1 MiB pieces and must come to exactly its declared
  size with the declared CRC-32: a member whose header lies about its size is stopped as
  soon as it inflates past it, so memory stays bounded whatever the file says.
- **Each worksheet's XML** (found through ``xl/workbook.xml`` and its relationships) is
  read in the same pass, without building a tree: the cells with content and the grid
  their positions span (the highest row and column a cell with content takes, counting
  rows and cells written without a reference the way the parser numbers them) must stay
  within :data:`MAX_SHEET_CELLS`. The shared string table may hold, and declare in its
  ``uniqueCount`` (the parser reserves that much room up front), at most
  :data:`MAX_SHARED_STRINGS` strings.
- **Quickly, for the usual sheet**: when every cell with content starts with its own
  position within columns A to P and Excel's rows (as Excel and every library write
  them), the grid fits whatever the numbers are, so a quick scan only counts the cells;
  any other sheet is measured exactly, in a second pass (:class:`_QuickSheetScan`). A
  large member is inflated by a helper thread while the pieces before it are scanned.

The same pass notes the cells calamine reads as empty that are not: error cells (``#N/A``,
``#DIV/0!``, ...) and formulas saved without a value. :func:`check_archive` returns them
per sheet so the loader can say why the value is missing.

A legacy `.xls` is not compressed and its grid is capped by the format (65,536 rows by
256 columns, which is :data:`MAX_SHEET_CELLS`), so only its encryption is checked here.
For `.xlsb` and `.ods` the archive limits apply; their sheets are binary or ODF and are
not measured.

Last (in fact at the same time: :class:`ParserProbe`), :func:`probe_parser` has the
parser open the workbook in a child process under a memory limit (and, for a legacy
`.xls`, read every sheet): a damaged record can make it panic or ask for terabytes and
abort (a BOUNDSHEET pointing past the end of the stream, a DIMENSIONS record whose first
row is after its last), and that must end in a message, not in the loader dying. Opening
an `.xlsx` is cheap (its sheets are read later, measured above); an `.xls` is at most
65,536 rows a sheet.
"""

from __future__ import annotations

import io
import posixpath
import queue
import re
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast
from xml.etree import ElementTree

from dap.errors import Location, WorkbookError
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
MAX_SHEET_CELLS = 1 << 24
"""Cells (rows x columns) a sheet's grid may span, and cells with content it may hold:
16,777,216, Excel's full height of 1,048,576 rows by 16 columns (and exactly the largest
`.xls` sheet). The parser allocates 32 bytes per cell of the grid: about 540 MB at most."""
MAX_SHARED_STRINGS = 1 << 22
"""Entries of the shared string table (4,194,304)."""
MAX_EXCEL_ROWS = 1_048_576
MAX_EXCEL_COLUMNS = 16_384
PROBE_MEMORY = 3 << 30
"""Address space the parser may use in the probe (3 GiB): a legal `.xls` needs well under
1 GiB; asking for more is a damaged count."""
PROBE_SECONDS = 120
_CHUNK = 1 << 20
_CARRY_LIMIT = 8 << 20
_NOTES_PER_SHEET = 100_000

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_BIFF8_GLOBALS_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00"
_FILEPASS = 0x002F
_BOUNDSHEET = 0x0085
_EOF_RECORD = 0x000A
_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED

ENCRYPTED_WORKBOOK = (
    "password-protected: the workbook is encrypted and cannot be read; open it in Excel, "
    "save it without a password (File > Info > Protect Workbook > Encrypt with Password, "
    "clear the password) and load that copy"
)

_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "/officeDocument"
_WORKSHEET = "/worksheet"
_SMALL_XML_LIMIT = 16 << 20

_ROW_NUMBER = re.compile(rb'<row r="(\d{1,12})"')
_ROW_START = re.compile(rb"<row(?=[\s>/])([^>]*)>")
_ROW_REF = re.compile(rb'\br="(\d{1,20})"')
_CELL_START = re.compile(rb"<c(?=[\s>/])([^>]*)>")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d{1,20})"')
_FORMULA_TAG = re.compile(rb"<f[\s>/]")
_CELL_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")
_ERROR_CODE = re.compile(r"#[A-Z0-9/!?_]{1,16}")
_SHARED_STRING = re.compile(rb"<si[\s>/]")
_SST_START = re.compile(rb"<sst\b([^>]*)>")
_SST_COUNT = re.compile(rb'\buniqueCount="(\d{1,20})"')


@dataclass
class ArchiveReport:
    """What the container check learnt that the parser will not tell."""

    notes: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    """Sheet name (as the workbook names it) -> (row, column), 0-based -> why the cell,
    which the parser reads as empty, has no value: ``error cell #N/A`` or ``formula with
    no saved value``."""


def check_archive(file_name: str, data: bytes) -> ArchiveReport:
    """Raise :class:`WorkbookError` for an encrypted, damaged or hostile container;
    otherwise return the notes on cells the parser will read as empty.

    ``file_name`` is used in messages as given (the caller masks it)."""
    where = Location(file_name)
    if data.startswith(_CFB_MAGIC):
        _check_compound_file(where, data)
        return ArchiveReport()
    if not data.startswith(_ZIP_MAGIC):
        return ArchiveReport()  # not a zip: the parser says whether it can read it
    return _ZipCheck(file_name, data).run()


def probe_parser(file_name: str, data: bytes) -> None:
    """Have the parser open ``data`` (and read every sheet of a legacy `.xls`) in a child
    process limited to :data:`PROBE_MEMORY`; raise :class:`WorkbookError` if it crashes
    there (an ordinary error is left for the loader to meet and report)."""
    ParserProbe(file_name, data).result()


class ParserProbe:
    """:func:`probe_parser` started now and finished by :meth:`result`, so that it runs
    beside :func:`check_archive` (it is another process: nothing the child does can harm
    this one). The workbook reaches the child through an unlinked temporary file."""

    def __init__(self, file_name: str, data: bytes) -> None:
        self.where = Location(file_name)
        every_sheet = data.startswith(_CFB_MAGIC)
        command = [sys.executable, "-I", "-c", _PROBE, str(PROBE_MEMORY), str(int(every_sheet))]
        self.stdin = tempfile.TemporaryFile()  # noqa: SIM115 - closed in result() / stop()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.stdin.write(data)
            self.stdin.seek(0)
            self.process = subprocess.Popen(
                command, stdin=self.stdin, stdout=subprocess.DEVNULL, stderr=self.stderr
            )
        except BaseException:
            self._close()
            raise

    def _close(self) -> None:
        self.stdin.close()
        self.stderr.close()

    def stop(self) -> None:
        """End the child without waiting for its verdict (the load stops anyway)."""
        try:
            self.process.kill()
            self.process.wait()
        finally:
            self._close()

    def result(self) -> None:
        """Wait for the child; raise :class:`WorkbookError` if the parser crashed."""
        try:
            try:
                returncode = self.process.wait(timeout=PROBE_SECONDS)
            except subprocess.TimeoutExpired as exc:
                self.process.kill()
                self.process.wait()
                raise WorkbookError(
                    self.where,
                    f"not a readable Excel workbook (reading it took over {PROBE_SECONDS} s)",
                ) from exc
            self.stderr.seek(0)
            stderr = self.stderr.read(1 << 20)
        finally:
            self._close()
        _raise_for_probe(self.where, returncode, stderr)


def _raise_for_probe(where: Location, returncode: int, stderr: bytes) -> None:
    if returncode == 0:
        return
    lines = stderr.decode("utf-8", "replace").splitlines()
    if returncode > 0 and returncode != _PROBE_PANIC:  # the probe itself failed
        raise RuntimeError(f"the parser probe failed: {' | '.join(lines[-3:])}")
    asked = next((line for line in lines if line.startswith("memory allocation of ")), None)
    if asked is not None:
        size = int(re.sub(r"\D", "", asked) or 0)
        reason = f"reading it asks for {size:,} bytes of memory: a damaged size or count"
    elif returncode == _PROBE_PANIC and lines:
        reason = f"the reader failed on it: {lines[-1][:200]}"
    else:
        reason = f"the reader was stopped by signal {-returncode} reading it"
    raise WorkbookError(where, f"not a readable Excel workbook ({reason})")


_PROBE_PANIC = 3
_PROBE = r"""
import io, sys
try:
    import resource
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ImportError, ValueError, OSError):
    pass  # a platform without the limit: the probe still catches panics and aborts
data = sys.stdin.buffer.read()
from python_calamine import CalamineWorkbook
try:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    if sys.argv[2] == "1":
        for name in book.sheet_names:
            book.get_sheet_by_name(name)
except Exception:
    pass  # an ordinary error (MemoryError included): the loader meets it and reports it
except BaseException as exc:  # a Rust panic (pyo3's PanicException)
    sys.stderr.write(f"{exc}\n")
    sys.exit(3)
"""


# --- OLE compound files (.xls, encrypted .xlsx) -------------------------------------------


def _check_compound_file(where: Location, data: bytes) -> None:
    """An encrypted OOXML package, or a BIFF8 workbook whose globals start with FILEPASS."""
    if _ENCRYPTED_PACKAGE in data and _ENCRYPTION_INFO in data:
        raise WorkbookError(where, ENCRYPTED_WORKBOOK)
    start = data.find(_BIFF8_GLOBALS_BOF)
    if start >= 0 and _biff_has_filepass(data, start):
        raise WorkbookError(where, ENCRYPTED_WORKBOOK)


def _biff_has_filepass(data: bytes, start: int) -> bool:
    """Whether FILEPASS is among the first records of the workbook globals: [MS-XLS] puts
    it right after BOF (and an optional WRITEPROTECT), well inside the stream's first
    sector, so the walk never crosses into another part of the file."""
    pos = start
    for _ in range(4):  # BOF, [WRITEPROTECT], FILEPASS, and one to spare
        if pos + 4 > len(data):
            return False
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == _FILEPASS:
            return True
        if kind in (_BOUNDSHEET, _EOF_RECORD):
            return False
        pos += 4 + length
    return False


# --- zip archives -------------------------------------------------------------------------


class _ZipCheck:
    def __init__(self, file_name: str, data: bytes) -> None:
        self.file_name = file_name
        self.data = data
        self.where = Location(file_name)
        self.sheet_parts: dict[str, str] = {}  # member name -> sheet name
        self.report = ArchiveReport()

    def stop(self, member: str | None, problem: str) -> WorkbookError:
        sheet = self.sheet_parts.get(member) if member is not None else None
        location = Location(self.file_name, mask_pii(sheet)) if sheet is not None else self.where
        return WorkbookError(location, problem)

    def run(self) -> ArchiveReport:
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
                    self.report.notes[sheet] = scan.notes
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
            else:
                self._inflate(info, lambda _piece: None)
        return self.report

    def _scan_sheet(self, info: zipfile.ZipInfo, sheet: str) -> _SheetScan:
        """Measure one worksheet member: the quick scan first; should it find the sheet
        unusual (or too large), the exact scan, which takes another pass."""
        quick = _QuickSheetScan(sheet)
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
            crc = zlib.crc32(piece, crc)
            sink(piece)
        if produced != info.file_size:
            raise self._damaged(info, f"it inflates to {produced:,} bytes, not {info.file_size:,}")
        if crc != info.CRC:
            raise self._damaged(info, "its CRC-32 does not match")

    def _deflated(self, info: zipfile.ZipInfo, view: memoryview, size: int) -> Iterator[bytes]:
        """The inflated data in pieces of at most ``size`` bytes."""
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
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
        except zlib.error as exc:
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
        if scan.max_row > MAX_EXCEL_ROWS or scan.max_column > MAX_EXCEL_COLUMNS:
            raise self.stop(
                member,
                f"the sheet's cells go beyond Excel's last row ({MAX_EXCEL_ROWS:,}) or "
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
                f"the sheet is too large to read: its cells reach row {height:,} and column "
                f"{column_letter(width - 1)} ({height * width:,} cells), and {scan.cells:,} "
                f"cells have content; at most {MAX_SHEET_CELLS:,} are read (Excel's "
                "1,048,576 rows by 16 columns). Delete the stray cells far below or to the "
                "right of the data",
            )


_READ_AHEAD_FLOOR = 8 << 20
"""Members larger than this (8 MiB) are inflated by a helper thread (see :func:`_read_ahead`)."""
_READ_AHEAD_PIECES = 2
_READ_AHEAD_CHUNK = 8 << 20
"""The helper's pieces are larger (8 MiB): each hand-over waits for the interpreter lock."""


def _read_ahead(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces``, made by a helper thread up to :data:`_READ_AHEAD_PIECES` ahead of the
    reader: zlib inflates without holding the interpreter lock, so a large sheet is
    inflated on one core while the pieces before are scanned on the other. What the
    helper raises is raised here; when the reader stops early, the helper stops too."""
    handoff: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=_READ_AHEAD_PIECES)
    stopped = threading.Event()

    def hand(done: bool, item: object) -> bool:
        while not stopped.is_set():
            try:
                handoff.put((done, item), timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for piece in pieces:
                if not hand(False, piece):
                    return
        except BaseException as exc:  # handed to the reader, who raises it
            hand(True, exc)
        else:
            hand(True, None)

    helper = threading.Thread(target=produce, name="dap-inflate", daemon=True)
    helper.start()
    try:
        while True:
            done, item = handoff.get()
            if done:
                if isinstance(item, BaseException):
                    raise item
                return
            yield cast(bytes, item)
    finally:
        stopped.set()
        helper.join()


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip member name."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(folder, target))


class _SharedStrings:
    """The shared string table, fed in pieces: how many entries it has, and how many its
    ``<sst uniqueCount="...">`` declares (the parser reserves room for that many strings
    before reading one: a false count of billions aborts it)."""

    def __init__(self) -> None:
        self.count = 0
        self.declared = 0
        self.head_read = False
        self.tail = b""

    def feed(self, piece: bytes) -> None:
        text = self.tail + piece
        if not self.head_read:
            head = _SST_START.search(text)
            if head is not None:
                counts = [int(n) for n in _SST_COUNT.findall(head.group(1))]
                self.declared = max(counts, default=0)
                self.head_read = True
        cut = text.rfind(b">") + 1
        if cut == 0 and len(text) > _CARRY_LIMIT:
            cut = len(text)  # no tag end in 8 MiB: nothing worth counting in
        self.count += len(_SHARED_STRING.findall(text, 0, cut))
        self.tail = text[cut:]


def _greater_numbers(n: int) -> bytes:
    """A regex alternation matching decimal numbers (no leading zeros) greater than ``n``."""
    digits = str(n)
    options = [rb"[1-9]\d{%d,}" % len(digits), rb"0\d*"]  # leading zeros: let int() decide
    for i, ch in enumerate(digits):
        if ch != "9":
            low = str(int(ch) + 1).encode()
            rest = len(digits) - i - 1
            options.append(digits[:i].encode() + b"[" + low + b"-9]" + rb"\d" * rest)
    return b"(?:" + b"|".join(options) + b")"


def _greater_columns(n: int) -> bytes:
    """A regex alternation matching column letters (1-3 letters) after column ``n``
    (1-based; 0 matches every column)."""
    if n <= 0:
        return b"[A-Z]{1,3}"
    letters = column_letter(n - 1).encode()
    options = [b"[A-Z]{%d,3}" % (len(letters) + 1)] if len(letters) < 3 else []
    for i in range(len(letters)):
        ch = letters[i]
        if ch != ord("Z"):
            rest = len(letters) - i - 1
            options.append(letters[:i] + b"[" + bytes([ch + 1]) + b"-Z]" + b"[A-Z]" * rest)
    return b"(?:" + b"|".join(options) + b")" if options else b"(?!)"


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


class _SheetScan:
    """One worksheet's XML, fed in pieces: its extent, its cells with content, and notes
    on error cells and formulas without a saved value."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.carry = b""
        self.cells = 0
        self.max_row = 0  # highest row number a row or a cell with content takes (1-based)
        self.max_column = 0  # highest column number a cell with content takes (1-based)
        self.row = 0  # the number of the last row tag read
        self.notes: dict[tuple[int, int], str] = {}

    @property
    def height(self) -> int:
        return max(self.max_row, 1)

    @property
    def width(self) -> int:
        return max(self.max_column, 1)

    def feed(self, piece: bytes) -> None:
        text = self.carry + piece
        cut = text.rfind(b"</row>")
        cut = cut + len(b"</row>") if cut >= 0 else -1
        if cut < 0 and len(text) > _CARRY_LIMIT:
            cut = text.rfind(b">") + 1 or len(text)
        if cut < 0:
            self.carry = text
            return
        self.carry = text[cut:]
        self._scan(text[:cut])

    def finish(self) -> None:
        if self.carry:
            self._scan(self.carry)
            self.carry = b""

    def _scan(self, text: bytes) -> None:
        self.cells += text.count(b"</c>")
        numbers = _ROW_NUMBER.findall(text)
        if text.count(b"<row") != len(numbers):  # rows without a leading r="", or <rowBreaks>
            self._irregular_rows(text)
        elif numbers:
            self.max_row = max(self.max_row, *map(int, numbers))
            self.row = int(numbers[-1])
        self._raise_maxima(text)
        if text.count(b"<c") != text.count(b'<c r="'):  # cells without a leading r="", or <col>
            self._irregular_cells(text)
        if b't="e"' in text:
            self._note_errors(text)
        if _FORMULA_TAG.search(text):
            self._note_formulas(text)

    def _raise_maxima(self, text: bytes) -> None:
        """Raise max_row and max_column to the highest cell reference in ``text``. Only
        references beyond the current maxima are looked at: in a well-formed sheet the row
        numbers come from the row tags and none are."""
        while True:
            columns = _greater_columns(self.max_column)
            rows = _greater_numbers(self.max_row)
            # A reference beyond either maximum, in a cell that is not an empty <c .../>
            # (the parser skips those).
            pattern = re.compile(
                rb'<c r="(?:(' + columns + rb")\d{1,20}|[A-Z]{1,3}(" + rows + rb'))"[^>]*(?<!/)>'
            )
            before = (self.max_row, self.max_column)
            for letters, number in pattern.findall(text):
                if letters:
                    self.max_column = max(self.max_column, _column_number(letters))
                if number:
                    self.max_row = max(self.max_row, int(number))
            if (self.max_row, self.max_column) == before:
                return

    def _irregular_rows(self, text: bytes) -> None:
        """Row tags whose ``r`` is missing or not the first attribute (slow path): the
        parser numbers a row without one just below the row before."""
        for attributes in _ROW_START.findall(text):
            number = _ROW_REF.search(attributes)
            self.row = int(number.group(1)) if number is not None else self.row + 1
            self.max_row = max(self.max_row, self.row)

    def _irregular_cells(self, text: bytes) -> None:
        """Cells whose ``r`` is missing or not the first attribute (slow path): the
        parser puts a cell without one right of the cell before it in its row."""
        for part in text.split(b"</row>"):
            column = 0
            for attributes in _CELL_START.findall(part):
                ref = _CELL_REF.search(attributes)
                if ref is None:
                    column += 1
                else:
                    column = _column_number(ref.group(1))
                    if attributes.endswith(b"/"):  # an empty <c .../> is not read
                        continue
                    self.max_row = max(self.max_row, int(ref.group(2)))
                self.max_column = max(self.max_column, column)

    def _cells_around(self, text: bytes, marks: list[int]) -> list[bytes]:
        cells: list[bytes] = []
        last_end = -1
        for mark in marks:
            if mark < last_end:
                continue
            start = max(text.rfind(b"<c ", 0, mark), text.rfind(b"<c>", 0, mark))
            end = text.find(b"</c>", mark)
            if start < 0 or end < 0:
                continue
            last_end = end + 4
            cells.append(text[start:last_end])
        return cells

    def _note(self, cell: bytes, problem: str) -> None:
        if len(self.notes) >= _NOTES_PER_SHEET:
            return
        head = cell[: cell.find(b">") + 1]
        ref = _CELL_REF.search(head)
        if ref is None:
            return  # no position to attach the note to
        row = int(ref.group(2)) - 1
        column = _column_number(ref.group(1)) - 1
        self.notes[(row, column)] = problem

    def _note_errors(self, text: bytes) -> None:
        marks = [m.start() for m in re.finditer(rb'\bt="e"', text)]
        for cell in self._cells_around(text, marks):
            kind = _CELL_TYPE.search(cell[: cell.find(b">") + 1])
            if kind is None or kind.group(1) != b"e":
                continue  # 't="e"' was text inside the cell, not its type
            value = _CELL_VALUE.search(cell)
            code = value.group(1).decode("ascii", "replace").strip() if value else ""
            shown = code if _ERROR_CODE.fullmatch(code) else "(unknown code)"
            self._note(cell, f"error cell {shown}")

    def _note_formulas(self, text: bytes) -> None:
        marks = [m.start() for m in _FORMULA_TAG.finditer(text)]
        for cell in self._cells_around(text, marks):
            head = cell[: cell.find(b">") + 1]
            kind = _CELL_TYPE.search(head)
            if kind is not None and kind.group(1) in (b"e", b"str"):
                continue  # an error (noted above) or a formula whose result is empty text
            value = _CELL_VALUE.search(cell)
            if value is None or not value.group(1).strip():
                self._note(cell, "formula with no saved value")


def _numbers_up_to(n: int) -> bytes:
    """A regex alternation matching the decimal numbers 1 to ``n`` (no leading zeros)."""
    digits = str(n)
    options = [rb"[1-9]\d{0,%d}" % (len(digits) - 2)] if len(digits) > 1 else []
    for i, ch in enumerate(digits):
        low = b"1" if i == 0 else b"0"
        high = int(ch) - 1
        if high >= int(low):
            rest = len(digits) - i - 1
            options.append(digits[:i].encode() + b"[%s-%d]" % (low, high) + rb"\d" * rest)
    options.append(digits.encode())
    return b"(?:" + b"|".join(options) + b")"


_QUICK_LAST_COLUMN = column_letter(MAX_SHEET_CELLS // MAX_EXCEL_ROWS - 1).encode()
_UNUSUAL_CELL = re.compile(
    rb'<c(?! r="[A-' + _QUICK_LAST_COLUMN + rb"]" + _numbers_up_to(MAX_EXCEL_ROWS) + rb'")'
    rb"(?=[\s>/])"  # a cell tag (not <col>, <cfRule>, ...)
    rb"(?![^>]*/>)"  # that is not empty (the parser skips those)
)
"""A cell with content whose ``r`` is not its first attribute, or is missing, or points
beyond column P or row 1,048,576."""


class _QuickSheetScan(_SheetScan):
    """The usual sheet, in fewer passes: when every cell with content gives its position
    first (``<c r="B7"``, as Excel and every library write) within columns A to P and
    Excel's rows, the grid the parser builds spans at most 1,048,576 x 16 cells
    (:data:`MAX_SHEET_CELLS`) whatever the numbers are, so they need not be read. The
    cells are counted, and error cells and formulas noted, as :class:`_SheetScan` does.

    A sheet where any cell is otherwise is ``usual = False``: scanning stops there, and
    the caller measures it with :class:`_SheetScan`."""

    def __init__(self, sheet: str) -> None:
        super().__init__(sheet)
        self.usual = True

    def feed(self, piece: bytes) -> None:
        if self.usual:
            super().feed(piece)

    def _scan(self, text: bytes) -> None:
        if not self.usual:
            return
        if _UNUSUAL_CELL.search(text):
            self.usual = False
            self.notes = {}
            return
        self.cells += text.count(b"</c>")
        if b't="e"' in text:
            self._note_errors(text)
        if _FORMULA_TAG.search(text):
            self._note_formulas(text)
