"""A generated corpus of malformed and hostile workbooks, each with the behaviour it must get.

Every :class:`Case` names a file, a builder that writes it, and the outcome ``dap load``
must give it: :class:`Loads` (the rows that land in the raw zone, with the values and the
``load_issues`` that matter) or :class:`Stops` (exit status 1, one message naming the file
and, where they apply, the sheet, row and column, and the lake unchanged). A case's
``why`` says why that is the right behaviour. ``python tests/python/corpus.py DIR`` writes
the whole corpus to DIR.

The workbooks are built with openpyxl, the project's own writers (:mod:`dap.samples.excel_writer`
through :mod:`workbooks`) and, for what no writer produces (cached formula values, error
cells, decompression bombs, lying zip headers, encrypted containers), by writing the
SpreadsheetML, the zip archive or the OLE compound file directly. The million-row sheet
is streamed straight into the zip, a row of XML at a time.
"""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

from dap.samples.excel_writer import Cell
from testkit.workbooks import HEADER, SHEET, metrics, row, rows_for, xls, xlsx

D = date(2023, 3, 14)
"""The first day of most cases' data."""
BOMB_MB = 200
"""Peak memory of a load stopped by a bomb. A load that stops early peaks at about 90 MB
(the interpreter, pyarrow and the file; measured on Linux x86-64), one that lands a small
workbook at about 135 MB; each bomb would need gigabytes, or abort the process."""
MILLION_ROWS_MB = 900
"""Peak memory of loading the million-row sheet: about 680 MB measured, mostly the
parser's own copy of the 7 million cells (32 bytes each, and 40 more each while it builds
it) and the workbook's bytes held twice; a third more for allocator and platform
differences. (Reading the whole grid into Python, as the loader used to, took 990 MB.)"""


@dataclass(frozen=True)
class Loads:
    """The workbook loads: ``rows`` rows of it land in the raw zone."""

    rows: int
    why: str
    values: Mapping[int, Mapping[str, object]] = field(default_factory=dict)
    """source_row_number -> raw column -> the value it must land with."""
    issues: Mapping[int, Sequence[str]] = field(default_factory=dict)
    """source_row_number -> fragments its ``load_issues`` must hold (empty: must be null)."""
    sheets: frozenset[str] | None = None
    """The source_sheet values of the landed rows, if it matters."""
    max_rss_mb: int | None = None
    """Peak resident memory of the ``dap load`` process, where it must be bounded."""


@dataclass(frozen=True)
class Stops:
    """The load stops: exit status 1, one message, and nothing written but the refusal's
    trace in the audit trail (its record and its row in the extract event log)."""

    message: str
    """A fragment of the problem, after the location."""
    why: str
    code: str = ""
    """The reason code the refusal is recorded with (:data:`dap.errors.REFUSAL_CODES`);
    every case gives one."""
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    max_rss_mb: int | None = None

    def location(self, file_name: str) -> str:
        """The location as the message starts: ``file, sheet 'S', row N, column 'C'``."""
        parts = [file_name]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Case:
    name: str
    file_name: str
    build: Callable[[Path], object]
    expect: Loads | Stops
    slow: bool = False
    """Takes seconds to build or load (the million rows)."""


# --- building blocks ----------------------------------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs></styleSheet>"
)
DATE_STYLE = 1
"""Style index of ``_STYLES``' date format (Excel's built-in 14, m/d/yyyy)."""
EXCEL_EPOCH = date(1899, 12, 30)


def serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(ref: str, value: Cell, *, style: int | None = None) -> str:
    """One ``<c>``: numbers as numbers, dates as serials with the date style, text inline."""
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return ""
    if isinstance(value, date):
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{serial(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def rows_xml(rows: Sequence[Sequence[Cell | str]], *, first_row: int = 1) -> str:
    """Rows as ``<row>`` elements. A string starting with ``<c`` is a raw cell (``{ref}``
    in it is replaced by the cell's reference)."""
    out: list[str] = []
    for r, values in enumerate(rows, start=first_row):
        cells: list[str] = []
        for c, value in enumerate(values):
            ref = f"{column_letters(c)}{r}"
            if isinstance(value, str) and value.startswith("<c"):
                cells.append(value.replace("{ref}", ref))
            else:
                cells.append(cell_xml(ref, value))
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out)


def sheet_xml(sheet_data: str, *, extra: str = "") -> str:
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}">'
        f"<sheetData>{sheet_data}</sheetData>{extra}</worksheet>"
    )


def package_parts(
    sheets: Sequence[tuple[str, str]], *, states: Mapping[str, str] = {}
) -> dict[str, str]:
    """The parts of a minimal SpreadsheetML package besides the worksheets:
    ``sheets`` is (sheet name, worksheet member name) in order."""
    overrides = "".join(
        f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/>'
        for _, part in sheets
    )
    content_types = (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>'
    )
    root_rels = (
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_NS}"><Relationship Id="rId1" '
        f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    entries = "".join(
        f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" '
        + (f'state="{states[name]}" ' if name in states else "")
        + f'r:id="rId{i}"/>'
        for i, (name, _) in enumerate(sheets, start=1)
    )
    book = (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>{entries}</sheets>'
        "</workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" '
        f'Target="{part.removeprefix("xl/")}"/>'
        for i, (_, part) in enumerate(sheets, start=1)
    )
    style_id = len(sheets) + 1
    book_rels = (
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_NS}">{rels}<Relationship Id="rId{style_id}" '
        f'Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
    )
    return {
        "[Content_Types].xml": content_types,
        "_rels/.rels": root_rels,
        "xl/workbook.xml": book,
        "xl/_rels/workbook.xml.rels": book_rels,
        "xl/styles.xml": _STYLES,
    }


def raw_xlsx(path: Path, sheets: Mapping[str, str], *, states: Mapping[str, str] = {}) -> Path:
    """An .xlsx whose worksheets are given as XML (name -> whole worksheet document)."""
    parts = [(name, f"xl/worksheets/sheet{i}.xml") for i, name in enumerate(sheets, start=1)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in package_parts(parts, states=states).items():
            archive.writestr(member, text)
        for name, member in parts:
            archive.writestr(member, sheets[name])
    return path


def metrics_with(n: int, changes: Mapping[int, Cell | str]) -> list[Cell | str]:
    """:func:`workbooks.metrics` of row ``n`` with some values replaced, by position (0 is
    CallsOffered ... 5 is BI_ID)."""
    values: list[Cell | str] = list(metrics(n))
    for index, value in changes.items():
        values[index] = value
    return values


def export_rows(first: date, count: int, start_n: int = 1) -> list[list[Cell]]:
    """The export's header and ``count`` good rows."""
    return [HEADER, *rows_for(first, count, start_n)]


def expected(n: int, day: date | None, **changes: object) -> dict[str, object]:
    """The raw values of row ``n`` of :func:`workbooks.metrics`, with ``changes``."""
    offered, handled, abandoned, speed, level, bi_id = metrics(n)
    values: dict[str, object] = {
        "date": day,
        "callsoffered": offered,
        "callshandled": handled,
        "callsabandoned": abandoned,
        "averagespeedofanswer": speed,
        "servicelevel": level,
        "bi_id": bi_id,
    }
    values.update(changes)
    return values


def good_rows(
    first: date, count: int, start_n: int = 1, first_row: int = 2
) -> dict[int, dict[str, object]]:
    return {first_row + i: expected(start_n + i, first + timedelta(days=i)) for i in range(count)}


# --- raw zip and compound-file writers ----------------------------------------------------


@dataclass(frozen=True)
class RawMember:
    name: str
    data: bytes
    """As stored (deflated when ``method`` is 8)."""
    crc: int
    size: int
    """The uncompressed size the headers declare."""
    method: int = zipfile.ZIP_DEFLATED


def raw_member(name: str, content: bytes) -> RawMember:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(content) + compressor.flush()
    return RawMember(name, deflated, zlib.crc32(content), len(content))


def write_zip(path: Path, members: Iterable[RawMember]) -> Path:
    """A zip archive written field by field, so sizes and CRCs can be whatever a case needs
    (no zip64: every size under 4 GiB)."""
    out = io.BytesIO()
    central: list[bytes] = []
    for m in members:
        name = m.name.encode()
        offset = out.tell()
        # version, flags, method, time, date (1980-01-01), CRC, sizes, name and extra lengths
        sizes = (m.method, 0, 0x21, m.crc, len(m.data), m.size, len(name))
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, *sizes, 0) + name + m.data)
        # ... and comment, disk, attributes (a regular file, rw-r--r--), local header offset
        attributes = (0, 0, 0, 0, 0o100644 << 16, offset)
        central.append(
            struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, *sizes, *attributes) + name
        )
    directory = b"".join(central)
    count, start = len(central), out.tell()
    out.write(directory)
    end = (b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)
    out.write(struct.pack("<4sHHHHIIH", *end))
    path.write_bytes(out.getvalue())
    return path


def package_members(sheet_names: Sequence[str]) -> list[RawMember]:
    parts = [(name, f"xl/worksheets/sheet{i}.xml") for i, name in enumerate(sheet_names, 1)]
    return [raw_member(name, text.encode()) for name, text in package_parts(parts).items()]


def repeated_member(
    name: str, head: bytes, block: bytes, copies: int, tail: bytes, *, declare: int | None = None
) -> RawMember:
    """A member inflating to ``head + block * copies + tail`` without compressing all of
    it: the block is deflated once, ending on a full flush (byte-aligned, no history), and
    its compressed form repeated. ``declare`` makes the headers claim another size (and
    the CRC of that many leading bytes)."""

    def deflated(data: bytes, mode: int) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush(mode)

    body = (
        deflated(head, zlib.Z_FULL_FLUSH)
        + deflated(block, zlib.Z_FULL_FLUSH) * copies
        + deflated(tail, zlib.Z_FINISH)
    )
    size = len(head) + len(block) * copies + len(tail)
    if declare is None:
        crc = zlib.crc32(head)
        for _ in range(copies):
            crc = zlib.crc32(block, crc)
        crc = zlib.crc32(tail, crc)
        return RawMember(name, body, crc, size)
    assert declare <= len(head) + len(block)
    prefix = (head + block)[:declare]
    return RawMember(name, body, zlib.crc32(prefix), declare)


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """A minimal OLE compound file (version 3, 512-byte sectors) holding ``streams`` in its
    root storage. Each stream must be at least 4,096 bytes long: shorter ones would belong
    in the mini stream, which this writer does not build."""
    assert all(len(data) >= 4096 for data in streams.values())
    sector = 512
    end_of_chain, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    directory_sectors = (len(names) + 1 + 3) // 4
    fat = [fat_sector]
    fat += [*range(2, 1 + directory_sectors), end_of_chain]  # directory chain from sector 1
    starts: dict[str, int] = {}
    body = b""
    for name in names:
        data = streams[name]
        count = max(-(-len(data) // sector), 8)
        first = len(fat)
        starts[name] = first
        fat += [*range(first + 1, first + count), end_of_chain]
        body += data.ljust(count * sector, b"\0")
    assert len(fat) <= sector // 4, "one FAT sector is enough for a small file"
    fat += [free] * (sector // 4 - len(fat))

    def entry(
        name: str, kind: int, left: int, right: int, child: int, start: int, size: int
    ) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(encoded), kind, 1, left, right, child)
            + bytes(16 + 4 + 16)  # class id, state bits, created and modified times
            + struct.pack("<IQ", start, size)
        )

    entries = [entry("Root Entry", 5, no_stream, no_stream, len(names), end_of_chain, 0)]
    for index, name in enumerate(names, start=1):
        left = index - 1 if index > 1 else no_stream  # a chain down the left, in order
        entries.append(entry(name, 2, left, no_stream, no_stream, starts[name], len(streams[name])))
    directory = b"".join(entries).ljust(directory_sectors * sector, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    assert len(header) == sector
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + body


def pseudo_random(n: int, seed: bytes) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(seed + counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(out[:n])


# --- the builders -------------------------------------------------------------------------


def _good(path: Path) -> Path:
    return xlsx(path, {SHEET: export_rows(D, 3)})


def build_truncated_zip(path: Path) -> None:
    data = _good(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])


def build_bad_crc(path: Path) -> None:
    """A workbook whose worksheet's CRC-32 in the central directory is wrong."""
    data = bytearray(_good(path).read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    crc_offset = at + 16
    crc = struct.unpack_from("<I", data, crc_offset)[0]
    struct.pack_into("<I", data, crc_offset, crc ^ 0xFFFFFFFF)
    path.write_bytes(bytes(data))


def build_random_bytes(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04" + pseudo_random(4000, b"random"))


def build_html(path: Path) -> None:
    path.write_text(
        "<html><body><table><tr><td>Date</td><td>CallsOffered</td></tr>"
        "<tr><td>2023-03-14</td><td>1000</td></tr></table></body></html>\n"
    )


def build_zip_of_csv(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export.csv", "Date,CallsOffered\n2023-03-14,1000\n")


def build_bomb(path: Path) -> None:
    """2 GiB of one-cell rows (80 million cells) in a 2 MB file."""
    head = sheet_xml(rows_xml([HEADER])).split("</sheetData>")[0].encode()
    block = b"<row><c><v>1</v></c></row>" * 40_329  # about 1 MiB
    member = repeated_member(
        "xl/worksheets/sheet1.xml", head, block, 2048, b"</sheetData></worksheet>"
    )
    write_zip(path, [*package_members(["Data"]), member])


def build_lying_bomb(path: Path) -> None:
    """The same stream, its headers declaring 1 MiB (with the CRC of the first 1 MiB)."""
    head = sheet_xml(rows_xml([HEADER])).split("</sheetData>")[0].encode()
    block = b"<row><c><v>1</v></c></row>" * 40_329
    member = repeated_member(
        "xl/worksheets/sheet1.xml",
        head,
        block,
        2048,
        b"</sheetData></worksheet>",
        declare=1 << 20,
    )
    write_zip(path, [*package_members(["Data"]), member])


def build_far_cell(path: Path) -> None:
    """Good data, and one value in the last cell Excel has: 17 billion cells of grid."""
    rows = rows_xml(export_rows(D, 3))
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    raw_xlsx(path, {"Data": sheet_xml(rows + far)})


def build_rows_without_references(path: Path) -> None:
    """Rows and cells without ``r``: one row 10,000 cells wide, then 100,000 empty rows."""
    wide = "<row>" + "<c><v>1</v></c>" * 10_000 + "</row>"
    raw_xlsx(
        path,
        {
            "Data": sheet_xml(
                rows_xml(export_rows(D, 2))
                + wide
                + "<row/>" * 100_000
                + "<row><c><v>2</v></c></row>"
            )
        },
    )


def build_shared_strings_count(path: Path) -> None:
    """A shared string table of one string that declares four billion."""
    rows = rows_xml([HEADER, ['<c r="{ref}" t="s"><v>0</v></c>', *metrics(1)]])
    sst = (
        f'{_XML_HEAD}<sst xmlns="{_MAIN_NS}" count="1" uniqueCount="4294967295">'
        "<si><t>2023-03-14</t></si></sst>"
    )
    raw_xlsx(path, {"Data": sheet_xml(rows)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", sst)


def build_many_members(path: Path) -> None:
    data = _good(path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        for i in range(10_001):
            archive.writestr(f"customXml/item{i}.xml", "<a/>")


def build_encrypted_xlsx(path: Path) -> None:
    """What Excel writes for File > Protect Workbook > Encrypt with Password: an OLE
    compound file with EncryptionInfo and EncryptedPackage streams (agile encryption)."""
    package = _good(path).read_bytes()
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
        b'saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></encryption>'
    ).ljust(4096, b" ")  # trailing white space after the XML, so no mini stream is needed
    encrypted = struct.pack("<Q", len(package)) + pseudo_random(len(package) + 16, b"aes")
    path.write_bytes(compound_file({"EncryptionInfo": info, "EncryptedPackage": encrypted}))


def build_encrypted_xls(path: Path) -> None:
    """A BIFF8 workbook with a FILEPASS record (RC4) right after its BOF, as Excel writes
    a password-protected .xls. The records after it are left as they were."""
    data = bytearray(xls(path, {SHEET: export_rows(D, 3)}).read_bytes())
    bof = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")
    assert bof >= 0
    pos = bof + 4 + 16
    records: list[bytes] = []
    while True:  # the records up to and including WRITEACCESS (0x5C)
        kind, length = struct.unpack_from("<HH", data, pos)
        records.append(bytes(data[pos : pos + 4 + length]))
        pos += 4 + length
        if kind == 0x5C:
            break
    region = sum(len(r) for r in records)
    filepass = struct.pack("<HH", 0x2F, 54) + struct.pack("<HHH", 1, 1, 1) + bytes(48)
    kept = b"".join(records[:-1])
    write_access_length = region - len(filepass) - len(kept) - 4
    assert write_access_length >= 0
    write_access = struct.pack("<HH", 0x5C, write_access_length) + records[-1][4:][
        :write_access_length
    ].ljust(write_access_length, b" ")
    data[bof + 20 : pos] = filepass + kept + write_access
    path.write_bytes(bytes(data))


def _patch_biff_record(path: Path, kind: int, patch: Callable[[bytearray], None]) -> None:
    """An .xls with the body of its first BIFF record of type ``kind`` changed in place."""
    data = bytearray(xls(path, {SHEET: export_rows(D, 5)}).read_bytes())
    pos = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # the workbook globals' BOF
    while True:
        found, length = struct.unpack_from("<HH", data, pos)
        if found == kind:
            break
        pos += 4 + length
    body = data[pos + 4 : pos + 4 + length]
    patch(body)
    data[pos + 4 : pos + 4 + length] = body
    path.write_bytes(bytes(data))


def build_xls_sheet_offset_past_the_end(path: Path) -> None:
    """BOUNDSHEET's offset of the sheet's BOF (its first 4 bytes) points 5 MB on, past the
    end of the stream: calamine slices past its buffer and panics."""
    _patch_biff_record(path, 0x85, lambda body: struct.pack_into("<I", body, 0, 5_000_000))


def build_xls_dimensions_inverted(path: Path) -> None:
    """DIMENSIONS says the first row is 131 and the last 6: calamine computes the height
    as 6 - 131, wraps around and asks for a terabyte, which aborts the process."""
    _patch_biff_record(path, 0x200, lambda body: struct.pack_into("<I", body, 0, 131))


def build_xls_renamed(path: Path) -> None:
    legacy = xls(path.with_suffix(".tmp.xls"), {SHEET: export_rows(D, 3)})
    legacy.replace(path)


def build_empty_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(path)


def build_empty_sheet_beside_data(path: Path) -> None:
    raw_xlsx(path, {"Empty": sheet_xml(""), "Data": sheet_xml(rows_xml(export_rows(D, 3)))})


def build_hidden_sheet_with_bad_data(path: Path) -> None:
    bad = [HEADER, ["not a date", "#N/A", *metrics(9)[1:]]] * 2
    raw_xlsx(
        path,
        {
            "Old": sheet_xml(rows_xml(bad)),
            "Data": sheet_xml(rows_xml(export_rows(D, 3))),
            "Scratch": sheet_xml(rows_xml([HEADER[:2], ["x", "y"]])),
        },
        states={"Old": "hidden", "Scratch": "veryHidden"},
    )


def build_only_hidden_sheets(path: Path) -> None:
    raw_xlsx(
        path,
        {
            "Cover": sheet_xml(rows_xml([["Contact centre metrics"]])),
            "Data": sheet_xml(rows_xml(export_rows(D, 3))),
        },
        states={"Data": "hidden"},
    )


def build_merged_title(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["A1"] = "3-1-1 Contact Centre Metrics"
    ws.merge_cells("A1:G2")  # a two-row title block
    for r, values in enumerate(export_rows(D, 3), start=3):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    wb.save(path)


def build_merged_header_cell(path: Path) -> None:
    """'CallsOffered' merged across B1:C1 over where 'CallsHandled' should be."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(
        ["Date", "CallsOffered", None, "CallsAbandoned", "AverageSpeedofAnswer", "ServiceLevel"]
    )
    ws.merge_cells("B1:C1")
    for values in rows_for(D, 3):
        ws.append(values[:6])
    wb.save(path)


def build_duplicate_header(path: Path) -> None:
    xlsx(path, {"Data": [[*HEADER, "Calls Offered"], [*row(D, 1), 5]]})


def build_extra_columns(path: Path) -> None:
    header: list[Cell] = ["Notes", *HEADER[:3], "Region", *HEADER[3:], "Total"]
    rows: list[list[Cell]] = [header]
    for i, values in enumerate(rows_for(D, 3), start=1):
        rows.append([f"note {i}", *values[:3], "Downtown", *values[3:], 999])
    xlsx(path, {"Data": rows})


def build_missing_column(path: Path) -> None:
    keep = [h for h in HEADER if h != "AverageSpeedofAnswer"]
    index = HEADER.index("AverageSpeedofAnswer")
    rows = [[*r[:index], *r[index + 1 :]] for r in rows_for(D, 3)]
    xlsx(path, {"Data": [["Daily extract"], keep, *rows]})


def build_no_measure_column(path: Path) -> None:
    rows: list[list[Cell]] = [["Date", "BI_ID"]]
    rows += [[D + timedelta(days=i), i] for i in range(3)]
    xlsx(path, {"Data": rows})


def build_numbers_as_text(path: Path) -> None:
    rows: list[list[Cell]] = [
        HEADER,
        [D, "1,001", " 901 ", "51", "20.25", "0.515625", "1"],
        [D + timedelta(days=1), "1 002", "902.0", "5.2e1", "20.5", "53.125%", "2"],
        [D + timedelta(days=2), "12,5", "١٢٣", "1_000", "0x10", "nan", "3"],
    ]
    xlsx(path, {"Data": rows})


def build_formulas(path: Path) -> None:
    rows = [
        HEADER,
        row(D, 1),
        [
            D + timedelta(days=1),
            '<c r="{ref}"><f>B2+1</f><v>1002</v></c>',
            '<c r="{ref}"><f>C2+1</f><v>902</v></c>',
            *metrics(2)[2:],
        ],
        [
            D + timedelta(days=2),
            '<c r="{ref}"><f>B3+1</f></c>',
            '<c r="{ref}"><f>C3+1</f><v></v></c>',
            *metrics(3)[2:],
        ],
    ]
    raw_xlsx(path, {"Data": sheet_xml(rows_xml(rows))})


def build_error_cells(path: Path) -> None:
    rows = [
        HEADER,
        row(D, 1),
        [D + timedelta(days=1), *metrics_with(2, {0: '<c r="{ref}" t="e"><v>#N/A</v></c>'})],
        [
            D + timedelta(days=2),
            *metrics_with(
                3,
                {
                    3: '<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
                    4: '<c r="{ref}" t="e"><v>#VALUE!</v></c>',
                },
            ),
        ],
        ['<c r="{ref}" t="e"><v>#REF!</v></c>', *metrics(4)],
    ]
    raw_xlsx(path, {"Data": sheet_xml(rows_xml(rows))})


def build_dates_day_first(path: Path) -> None:
    rows: list[list[Cell]] = [HEADER]
    for i in range(5):
        day = D + timedelta(days=i)
        rows.append(row(day.strftime("%d/%m/%Y"), i + 1))
    xlsx(path, {"Data": rows})


def build_dates_some_other_formats(path: Path) -> None:
    rows: list[list[Cell]] = [
        HEADER,
        row(D, 1),
        row("2023-03-15", 2),
        row("March 16, 2023", 3),
        row(D + timedelta(days=3), 4),
        row("17 March 2023", 5),  # day-first 17.03.2023 beside real dates: refused
        row(D + timedelta(days=5), 6),
        row("=TODAY()", 7),  # text, not a formula
    ]
    raw_xlsx(path, {"Data": sheet_xml(rows_xml(rows))})


def build_serial_dates(path: Path) -> None:
    rows: list[list[Cell]] = [HEADER]
    for i in range(3):
        rows.append(row(serial(D + timedelta(days=i)), i + 1))  # numbers, no date format
    rows.append(row(serial(D) + 0.5, 4))
    xlsx(path, {"Data": rows})


def build_future_dates(path: Path) -> None:
    xlsx(
        path, {"Data": [HEADER, row(D, 1), row(date(2099, 12, 31), 2), row(date(9999, 12, 31), 3)]}
    )


def build_duplicate_dates(path: Path) -> None:
    xlsx(path, {"Data": [HEADER, row(D, 1), row(D, 2), row(D + timedelta(days=1), 3)]})


def build_negative_and_fractional_counts(path: Path) -> None:
    rows: list[list[Cell]] = [
        HEADER,
        [D, -5, 900, 50, 20.0, 0.5, 1],
        [D + timedelta(days=1), 1000.5, 900, -1, -3.5, 0.5, 2],
        [D + timedelta(days=2), 1000, 12.25, 50, 20.0, 0.5, 3.5],
    ]
    xlsx(path, {"Data": rows})


def build_service_level_percent(path: Path) -> None:
    rows: list[list[Cell]] = [
        HEADER,
        [D, 1000, 900, 50, 20.0, "88.5%", 1],
        [D + timedelta(days=1), 1000, 900, 50, 20.0, 88.5, 2],
        [D + timedelta(days=2), 1000, 900, 50, 20.0, 0.885, 3],
    ]
    xlsx(path, {"Data": rows})


MILLION = 1_000_000


def build_million_rows(path: Path, rows: int = MILLION) -> None:
    """A million days of the export in one sheet, streamed into the zip as XML (the dates
    cycle through 2009-06-15 .. 2024-09-30, so most of them repeat)."""
    first, span = serial(date(2009, 6, 15)), (date(2024, 9, 30) - date(2009, 6, 15)).days + 1
    speeds = [repr(20 + m / 4) for m in range(1000)]
    levels = [repr(0.5 + m / 4096) for m in range(1000)]
    template = (
        '<row r="%d"><c r="A%d" s="1"><v>%d</v></c><c r="B%d"><v>%d</v></c>'
        '<c r="C%d"><v>%d</v></c><c r="D%d"><v>%d</v></c><c r="E%d"><v>%s</v></c>'
        '<c r="F%d"><v>%s</v></c><c r="G%d"><v>%d</v></c></row>'
    )
    head, tail = sheet_xml(rows_xml([HEADER]) + "\0").split("\0")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for member, text in package_parts([("Data", "xl/worksheets/sheet1.xml")]).items():
            archive.writestr(member, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(head.encode())
            for start in range(0, rows, 20_000):
                batch = []
                for i in range(start, min(start + 20_000, rows)):
                    r, m = i + 2, i % 1000
                    batch.append(
                        template
                        % (
                            r,
                            r,
                            first + i % span,
                            r,
                            1000 + m,
                            r,
                            900 + m,
                            r,
                            50 + m % 50,
                            r,
                            speeds[m],
                            r,
                            levels[m],
                            r,
                            i + 1,
                        )
                    )
                out.write("".join(batch).encode())
            out.write(tail.encode())


def million_row_values(i: int) -> dict[str, object]:
    """The raw values of the million-row sheet's ``i``-th data row (0-based)."""
    m = i % 1000
    first, span = date(2009, 6, 15), (date(2024, 9, 30) - date(2009, 6, 15)).days + 1
    return {
        "date": first + timedelta(days=i % span),
        "callsoffered": 1000 + m,
        "callshandled": 900 + m,
        "callsabandoned": 50 + m % 50,
        "averagespeedofanswer": 20 + m / 4,
        "servicelevel": 0.5 + m / 4096,
        "bi_id": i + 1,
    }


NON_LATIN_SHEET = "Данные 数据 بيانات"


def build_non_latin(path: Path) -> None:
    header: list[Cell] = [*HEADER, "備考 / Примечание"]
    rows: list[list[Cell]] = [header]
    notes = ["平日 — обычный день", "عطلة نهاية الأسبوع 🎉", "Ünïcödé ñ ß ø"]
    for i, values in enumerate(rows_for(D, 3), start=1):
        rows.append([*values, notes[i - 1]])
    xlsx(path, {NON_LATIN_SHEET: [["Центр обработки вызовов 3-1-1 — 指标"], rows[0], *rows[1:]]})


INJECTIONS = ["=1+1", '=HYPERLINK("http://example.com/x","click")', "+1+1", "-2+3", "@SUM(A1:A2)"]


def build_formula_injection(path: Path) -> None:
    """Text cells (inline strings: openpyxl would write '=...' as a formula)."""
    header: list[Cell] = [*HEADER, "Notes"]
    rows: list[list[Cell | str]] = [
        header,
        [D, *metrics_with(1, {0: INJECTIONS[0]}), "=cmd|' /C calc'!A0"],
        [D + timedelta(days=1), *metrics_with(2, {1: INJECTIONS[1]}), "+SUM(1,2)"],
        [D + timedelta(days=2), *metrics_with(3, {2: INJECTIONS[2]}), "-1"],
        [D + timedelta(days=3), *metrics_with(4, {3: INJECTIONS[3]}), "@A1"],
        [INJECTIONS[4], *metrics(5), "=1"],
    ]
    raw_xlsx(path, {"Data": sheet_xml(rows_xml(rows))})


# --- the corpus ---------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    # the container
    Case(
        "corrupt-zip-truncated",
        "truncated.xlsx",
        build_truncated_zip,
        Stops(
            "not a readable Excel workbook",
            "half a download: the zip has no directory",
            code="damaged",
        ),
    ),
    Case(
        "corrupt-zip-bad-crc",
        "bad-crc.xlsx",
        build_bad_crc,
        Stops(
            "not a readable Excel workbook (zip member xl/worksheets/sheet1.xml is damaged: "
            "its CRC-32 does not match",
            "a flipped bit: the member's data does not match its checksum",
            sheet=SHEET,
            code="damaged",
        ),
    ),
    Case(
        "not-a-workbook-random-bytes",
        "random.xlsx",
        build_random_bytes,
        Stops("not a readable Excel workbook", "a zip signature followed by noise", code="damaged"),
    ),
    Case(
        "not-a-workbook-empty-file",
        "empty.xlsx",
        lambda p: p.write_bytes(b""),
        Stops("not a readable Excel workbook", "zero bytes", code="not_a_workbook"),
    ),
    Case(
        "not-a-workbook-html",
        "export.xlsx",
        build_html,
        Stops(
            "not a readable Excel workbook",
            "a web page saved with an .xlsx name",
            code="unsupported_format",
        ),
    ),
    Case(
        "not-a-workbook-zip-of-csv",
        "csv-in-zip.xlsx",
        build_zip_of_csv,
        Stops(
            "not a readable Excel workbook",
            "a valid zip that is not a workbook",
            code="unsupported_format",
        ),
    ),
    Case(
        "decompression-bomb",
        "bomb.xlsx",
        build_bomb,
        Stops(
            "times its compressed size (more than 100:1: a decompression bomb?)",
            "2 GiB of cells in a 2 MB file: refused from the zip's declared sizes before "
            "anything is inflated, naming the member and its sheet",
            sheet="Data",
            max_rss_mb=BOMB_MB,
            code="too_large",
        ),
    ),
    Case(
        "decompression-bomb-lying-sizes",
        "bomb-lying.xlsx",
        build_lying_bomb,
        Stops(
            "inflates to more than the 1,048,576 bytes its header declares",
            "the same bomb with headers claiming 1 MiB: stopped as soon as it inflates past "
            "that, without ever holding more than a piece of it",
            sheet="Data",
            max_rss_mb=BOMB_MB,
            code="too_large",
        ),
    ),
    Case(
        "sparse-cell-at-XFD1048576",
        "far-cell.xlsx",
        build_far_cell,
        Stops(
            "the sheet is too large to read",
            "one value in Excel's last cell makes the parser allocate 17 billion cells and "
            "abort; the extent is measured from the XML first",
            sheet="Data",
            row=1_048_576,
            column="XFD",
            max_rss_mb=BOMB_MB,
            code="too_large",
        ),
    ),
    Case(
        "sparse-rows-without-references",
        "no-refs.xlsx",
        build_rows_without_references,
        Stops(
            "the sheet is too large to read",
            "rows and cells without r= are numbered by position: 100,000 empty rows under a "
            "10,000-cell row span a billion cells",
            sheet="Data",
            row=100_005,
            column="NTP",
            max_rss_mb=BOMB_MB,
            code="too_large",
        ),
    ),
    Case(
        "too-many-zip-members",
        "many-members.xlsx",
        build_many_members,
        Stops(
            "members, more than the 10,000 a workbook is allowed",
            "a workbook padded with 10,001 extra members: not something Excel writes",
            code="too_large",
        ),
    ),
    Case(
        "password-protected-xlsx",
        "protected.xlsx",
        build_encrypted_xlsx,
        Stops(
            "password-protected",
            "an encrypted package cannot be read; the person who has the password can save "
            "a copy without it",
            code="encrypted",
        ),
    ),
    Case(
        "password-protected-xls",
        "protected.xls",
        build_encrypted_xls,
        Stops("password-protected", "a legacy workbook with a FILEPASS record", code="encrypted"),
    ),
    Case(
        "corrupt-xls-sheet-offset",
        "corrupt-offset.xls",
        build_xls_sheet_offset_past_the_end,
        Stops(
            "not a readable Excel workbook (the reader failed on it: range start index",
            "a damaged record makes the parser panic: the probe meets it in a child process "
            "and the load says the file cannot be read",
            code="not_a_workbook",
        ),
    ),
    Case(
        "corrupt-xls-dimensions",
        "corrupt-dimensions.xls",
        build_xls_dimensions_inverted,
        Stops(
            "not a readable Excel workbook (reading it asks for",
            "a damaged size makes the parser ask for a terabyte and abort: that happens in "
            "the memory-limited probe, not in the loader",
            max_rss_mb=BOMB_MB,
            code="not_a_workbook",
        ),
    ),
    Case(
        "shared-strings-count-bomb",
        "sst-count.xlsx",
        build_shared_strings_count,
        Stops(
            "xl/sharedStrings.xml holds or declares 4,294,967,295 shared strings",
            '<sst uniqueCount="4294967295"> makes the parser reserve 100 GB before reading a '
            "string; the declared count is checked first",
            max_rss_mb=BOMB_MB,
            code="too_large",
        ),
    ),
    Case(
        "xls-renamed-xlsx",
        "legacy-renamed.xlsx",
        build_xls_renamed,
        Loads(
            3,
            "the format is read from the content, not the name",
            values=good_rows(D, 3),
            issues={2: [], 3: [], 4: []},
        ),
    ),
    # sheets
    Case(
        "empty-workbook",
        "empty-book.xlsx",
        build_empty_workbook,
        Stops(
            "no sheet has the required columns",
            "one empty sheet: nothing to load",
            code="no_metric_sheet",
        ),
    ),
    Case(
        "empty-sheet-beside-data",
        "empty-sheet.xlsx",
        build_empty_sheet_beside_data,
        Loads(3, "an empty sheet is skipped", values=good_rows(D, 3), sheets=frozenset({"Data"})),
    ),
    Case(
        "hidden-sheets-with-bad-data",
        "hidden-sheets.xlsx",
        build_hidden_sheet_with_bad_data,
        Loads(
            3,
            "hidden and very hidden sheets are not part of the extract (they are still "
            "scanned for personal data)",
            values=good_rows(D, 3),
            sheets=frozenset({"Data"}),
        ),
    ),
    Case(
        "only-hidden-sheets",
        "only-hidden.xlsx",
        build_only_hidden_sheets,
        Stops(
            "no sheet has the required columns",
            "the only metrics are on a hidden sheet: someone hid them, so nothing loads",
            code="no_metric_sheet",
        ),
    ),
    # headers
    Case(
        "merged-title-above-header",
        "merged-title.xlsx",
        build_merged_title,
        Loads(
            3,
            "a merged title block above the header is skipped like any title",
            values=good_rows(D, 3, first_row=4),
        ),
    ),
    Case(
        "merged-header-cell",
        "merged-header.xlsx",
        build_merged_header_cell,
        Loads(
            3,
            "a header cell merged over its neighbour hides that column's name: the sheet is "
            "an extract without that measure (carried_columns says so), and dbt holds its "
            "days back as incomplete until an extract that carries it lands",
            values={
                2 + i: expected(
                    1 + i,
                    D + timedelta(days=i),
                    callshandled=None,
                    bi_id=None,
                    carried_columns="callsoffered,callsabandoned,averagespeedofanswer,servicelevel",
                )
                for i in range(3)
            },
            issues={2: [], 3: [], 4: []},
        ),
    ),
    Case(
        "duplicate-header",
        "duplicate-header.xlsx",
        build_duplicate_header,
        Stops(
            "the header appears more than once, in columns B and H",
            "two columns claim the same figure: which one is meant cannot be guessed",
            sheet="Data",
            row=1,
            column="CallsOffered",
            code="duplicate_header",
        ),
    ),
    Case(
        "extra-columns",
        "extra-columns.xlsx",
        build_extra_columns,
        Loads(
            3,
            "columns are found by header; others are ignored",
            values={2 + i: expected(1 + i, D + timedelta(days=i)) for i in range(3)},
        ),
    ),
    Case(
        "missing-column",
        "missing-column.xlsx",
        build_missing_column,
        Loads(
            3,
            "a measure absent from the whole file is not carried by this extract, not "
            "missing from each row: another extract may supply it",
            values={
                3 + i: expected(
                    1 + i,
                    D + timedelta(days=i),
                    averagespeedofanswer=None,
                    carried_columns="callsoffered,callshandled,callsabandoned,servicelevel",
                )
                for i in range(3)
            },
            issues={3: [], 4: [], 5: []},
        ),
    ),
    Case(
        "no-measure-column",
        "no-measure.xlsx",
        build_no_measure_column,
        Stops(
            "no measure column in the header",
            "a date without any figure beside it is not an extract",
            sheet="Data",
            row=1,
            code="missing_column",
        ),
    ),
    # values
    Case(
        "numbers-stored-as-text",
        "numbers-as-text.xlsx",
        build_numbers_as_text,
        Loads(
            3,
            "numbers typed as text are read (separators between groups of three, a decimal "
            "point, an exponent, a percent sign); a decimal comma, digits of other scripts, "
            "underscores, hex and 'nan' are not numbers Excel would read, so they land as "
            "null with the cell quoted",
            values={
                2: expected(1, D),
                3: expected(2, D + timedelta(days=1)),
                4: expected(
                    3,
                    D + timedelta(days=2),
                    callsoffered=None,
                    callshandled=None,
                    callsabandoned=None,
                    averagespeedofanswer=None,
                    servicelevel=None,
                ),
            },
            issues={
                2: [],
                3: [],
                4: [
                    "CallsOffered (B4): '12,5' is not a number",
                    "CallsHandled (C4): '١٢٣' is not a number",
                    "CallsAbandoned (D4): '1_000' is not a number",
                    "AverageSpeedofAnswer (E4): '0x10' is not a number",
                    "ServiceLevel (F4): 'nan' is not a number",
                ],
            },
        ),
    ),
    Case(
        "formulas",
        "formulas.xlsx",
        build_formulas,
        Loads(
            3,
            "a formula's saved value is data and is read; the formula is never evaluated, "
            "so one saved without a value lands as null, saying so",
            values={
                2: expected(1, D),
                3: expected(2, D + timedelta(days=1)),
                4: expected(3, D + timedelta(days=2), callsoffered=None, callshandled=None),
            },
            issues={
                2: [],
                3: [],
                4: [
                    "CallsOffered (B4): formula with no saved value",
                    "CallsHandled (C4): formula with no saved value",
                ],
            },
        ),
    ),
    Case(
        "error-cells",
        "error-cells.xlsx",
        build_error_cells,
        Loads(
            4,
            "an error cell has no value: the row lands with null there and load_issues "
            "quotes the error (dbt quarantines the row)",
            values={
                2: expected(1, D),
                3: expected(2, D + timedelta(days=1), callsoffered=None),
                4: expected(3, D + timedelta(days=2), averagespeedofanswer=None, servicelevel=None),
                5: expected(4, None),
            },
            issues={
                2: [],
                3: ["CallsOffered (B3): error cell #N/A"],
                4: [
                    "AverageSpeedofAnswer (E4): error cell #DIV/0!",
                    "ServiceLevel (F4): error cell #VALUE!",
                ],
                5: ["Date (A5): error cell #REF!"],
            },
        ),
    ),
    Case(
        "dates-as-text-day-first",
        "dates-day-first.xlsx",
        build_dates_day_first,
        Stops(
            "the date column (A) cannot be read: 5 of 5 values are not dates, the first is "
            "'14/03/2023'",
            "14/03/2023 could be read, 03/04/2023 could not be told from 4 March: the whole "
            "column is refused rather than guessed",
            sheet="Data",
            row=2,
            column="Date",
            code="unreadable_dates",
        ),
    ),
    Case(
        "dates-as-text-some-other-formats",
        "dates-mixed.xlsx",
        build_dates_some_other_formats,
        Loads(
            7,
            "a few dates in another format (or a formula as text) land with a null date and "
            "the cell quoted; dbt quarantines those rows",
            values={
                2: expected(1, D),
                3: expected(2, D + timedelta(days=1)),
                4: expected(3, None),
                5: expected(4, D + timedelta(days=3)),
                6: expected(5, None),
                8: expected(7, None),
            },
            issues={
                4: ["Date (A4): 'March 16, 2023' is not a date"],
                6: ["Date (A6): '17 March 2023' is not a date"],
                8: ["Date (A8): '=TODAY()' is not a date"],
            },
        ),
    ),
    Case(
        "dates-as-excel-serials",
        "dates-serial.xlsx",
        build_serial_dates,
        Loads(
            4,
            "a date stored as a plain number is an Excel serial; a fraction is a time of day",
            values={**good_rows(D, 3), 5: expected(4, None)},
            issues={2: [], 5: [f"Date (A5): {serial(D) + 0.5} is not an Excel date serial"]},
        ),
    ),
    Case(
        "future-dates",
        "future-dates.xlsx",
        build_future_dates,
        Loads(
            3,
            "a date in the future is a business rule: it lands (partition year=2099, 9999) "
            "and dbt quarantines it",
            values={
                2: expected(1, D),
                3: expected(2, date(2099, 12, 31)),
                4: expected(3, date(9999, 12, 31)),
            },
        ),
    ),
    Case(
        "duplicate-dates",
        "duplicate-dates.xlsx",
        build_duplicate_dates,
        Loads(
            3,
            "two rows for one day both land; dbt quarantines a date twice in one extract",
            values={2: expected(1, D), 3: expected(2, D), 4: expected(3, D + timedelta(days=1))},
        ),
    ),
    Case(
        "negative-and-fractional-counts",
        "bad-counts.xlsx",
        build_negative_and_fractional_counts,
        Loads(
            3,
            "a negative count is readable and lands for dbt to quarantine; 1000.5 calls is "
            "not a count and lands as null with the cell quoted",
            values={
                2: {"callsoffered": -5},
                3: {"callsoffered": None, "callsabandoned": -1, "averagespeedofanswer": -3.5},
                4: {"callshandled": None, "bi_id": None},
            },
            issues={
                2: [],
                3: ["CallsOffered (B3): 1000.5 is not a whole number"],
                4: [
                    "CallsHandled (C4): 12.25 is not a whole number",
                    "BI_ID (G4): 3.5 is not a whole number",
                ],
            },
        ),
    ),
    Case(
        "service-level-in-percent",
        "service-level-percent.xlsx",
        build_service_level_percent,
        Loads(
            3,
            "text with a percent sign says its unit: '88.5%' is 0.885. A bare 88.5 says "
            "nothing: the loader does not guess units, it lands as given and dbt's rule "
            "(service level within 0-1) quarantines the row, where it is seen and fixed",
            values={
                2: {"servicelevel": 0.885},
                3: {"servicelevel": 88.5},
                4: {"servicelevel": 0.885},
            },
            issues={2: [], 3: [], 4: []},
        ),
    ),
    Case(
        "million-rows",
        "million-rows.xlsx",
        build_million_rows,
        Loads(
            MILLION,
            "a million rows load with bounded memory: the parser's copy of the sheet, then "
            "rows streamed and typed into Arrow arrays",
            values={2: million_row_values(0), MILLION + 1: million_row_values(MILLION - 1)},
            max_rss_mb=MILLION_ROWS_MB,
        ),
        slow=True,
    ),
    Case(
        "non-latin-text",
        "non-latin-données-数据.xlsx",
        build_non_latin,
        Loads(
            3,
            "sheet names, titles, headers and notes in any script are fine; the sheet name "
            "lands in source_sheet as written",
            values=good_rows(D, 3, first_row=3),
            sheets=frozenset({NON_LATIN_SHEET}),
        ),
    ),
    Case(
        "cells-starting-with-formula-characters",
        "formula-injection.xlsx",
        build_formula_injection,
        Loads(
            5,
            "text starting with =, +, - or @ is data, never evaluated: in a metric column it "
            "is not a number (null, the text quoted after the column name, so the message "
            "itself never starts with one of them); in a notes column it is ignored",
            values={
                2: {"callsoffered": None},
                3: {"callshandled": None},
                4: {"callsabandoned": None},
                5: {"averagespeedofanswer": None},
                6: {"date": None},
            },
            issues={
                2: ["CallsOffered (B2): '=1+1' is not a number"],
                3: ["""CallsHandled (C3): '=HYPERLINK("http://example.com/x","...' is not"""],
                4: ["CallsAbandoned (D4): '+1+1' is not a number"],
                5: ["AverageSpeedofAnswer (E5): '-2+3' is not a number"],
                6: ["Date (A6): '@SUM(A1:A2)' is not a date"],
            },
        ),
    ),
)


def cases(*, slow: bool = True) -> list[Case]:
    return [c for c in CASES if slow or not c.slow]


def write_corpus(folder: Path, *, slow: bool = True) -> dict[str, Path]:
    """Write every case's workbook to ``folder``; case name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for case in cases(slow=slow):
        path = folder / case.file_name
        case.build(path)
        paths[case.name] = path
    return paths


if __name__ == "__main__":
    written = write_corpus(Path(sys.argv[1]))
    for name, path in written.items():
        sys.stdout.write(f"{name}: {path}\n")
