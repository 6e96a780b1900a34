"""A large sheet read in two halves at once: cut in the probe's child, joined in the loader.

The fast read (:mod:`._fast`) spends nearly all its time in fastexcel's parse of the
sheet's XML, on one core, while the container check takes the other for only part of
that time. So a sheet of at least :data:`SPLIT_MIN_BYTES` of XML is cut at a row near its
middle into two workbooks, each the original with that sheet's XML replaced by one half
(the first: the rows above the cut; the second: the sheet's opening up to ``<sheetData>``
and the rows from the cut on), and the two are parsed by two processes at the same time:
the probe's child (:func:`dap.ingest.guard.ParserProbe`) and a child of its own, forked
before either has read a byte. Each inflates the sheet's XML with ISA-L and finds the same
cut (the same bytes, inflated in the same steps, searched alike), and deflates its own
half as it goes; the other members are copied as they are. On a million rows the cut
costs each process about 0.3 s and halves the parse (about 2.3 s on one core).

What makes the halves exactly the sheet, or leaves it to a whole read:

- the cut is made only where a row tag ``<row r="N" ...>`` is followed by a cell
  ``<c r="AN">`` holding a value: the second half's first row is row N, in column A, so
  fastexcel's rows and columns of it start there;
- the container check must have found every cell after the cells of the rows above it
  (:attr:`~dap.ingest.guard.SheetCells.in_row_order`), so no cell of the second half lies
  above the cut; the first half must end above row N (rows it lacks just above the cut are
  empty rows, added back as such);
- a column of one half must have the type of the same column of the other, or be empty;
- and the joined columns pass the same count of every cell against the container check's
  count of the sheet's XML as a whole read (:func:`._fast._check_every_cell_read`).

Anything else leaves the sheet to a whole read: in the child, a cut that cannot be made
(the sheet is read whole there), or a second half that fails (read whole as well); in the
loader, halves that do not join (the sheet is read cell by cell).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
from isal import isal_zlib

from dap.ingest.guard import ROW_ORDER_MIN_BYTES

SPLIT_MIN_BYTES = ROW_ORDER_MIN_BYTES
"""A worksheet's XML of at least this size (about 250,000 rows of a few figures) is read in
two halves at once; the container check checks the order of its cells' rows from the
same size on."""
SEARCH_BYTES = 4 << 20
"""How far past the middle of the XML a row to cut at is looked for."""
_IN = 1 << 20  # compressed bytes read at a time
_LEVEL = 1  # ISA-L's quickest deflate that still shrinks XML about ninefold
_OPENING_LIMIT = 1 << 20
_SHEET_DATA = b"<sheetData>"
_CUT = re.compile(
    rb'<row r="([1-9]\d{0,6})"[^<>]{0,400}><c r="A\1"(?: s="\d{1,5}")?(?: t="[ns]")?><v>[^<]'
)
_CARRY = 512  # longer than any text _CUT matches
_CLOSE = b"</sheetData></worksheet>"
_PR_SET_PDEATHSIG = 1
_CAN_FORK = sys.platform == "linux"
"""Where the second half's reader can be forked, ended with its parent, and its
workbook named by a /proc path: Linux (the probe's child is forked there too)."""


@dataclass(frozen=True)
class Cut:
    """A sheet cut in two: the first half's workbook (a path the readers open) and the
    second half's reader, a child process that writes its columns to ``second_to``."""

    first: str
    row: int
    """The first row (1-based) of the second half."""
    second_pid: int
    second_to: Path
    holder: IO[bytes]
    """The first half's workbook, open (the path names it through this descriptor)."""

    def second_done(self) -> bool:
        """Wait for the second half's reader: whether it wrote its columns."""
        _, status = os.waitpid(self.second_pid, 0)
        return os.waitstatus_to_exitcode(status) == 0 and self.second_to.exists()

    def abandon(self) -> None:
        """End the second half's reader (the first half failed) and wait for it."""
        _end(self.second_pid)
        with contextlib.suppress(FileNotFoundError):
            self.second_to.unlink()

    def close(self) -> None:
        self.holder.close()


def cut_sheet(
    source: str, member: str, read_second: Callable[[str, int], None], second_to: Path
) -> Cut | None:
    """Cut the worksheet ``member`` of the workbook at ``source`` in two, if it is large
    and a row to cut at is found past its middle; else None (nothing left running). The
    second half is read by ``read_second(path, row)`` in a child forked at once (it
    inflates the XML itself, up to the same cut, rather than wait for this process to
    reach it), which must write ``second_to``."""
    if not _CAN_FORK:
        return None
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
    info = next((i for i in infos if i.filename == member), None)
    if info is None or info.file_size < SPLIT_MIN_BYTES or not _plain(infos):
        return None
    with open(source, "rb") as opened:
        fd = opened.fileno()
        pid = _fork_second(fd, infos, infos.index(info), read_second)
        first = _scratch()
        try:
            row = _write_half(first, fd, infos, infos.index(info), second=False)
        except BaseException:
            first.close()
            _end(pid)
            raise
    if row is None:
        first.close()
        _end(pid)
        return None
    return Cut(f"/proc/self/fd/{first.fileno()}", row, pid, second_to, first)


def _end(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _plain(infos: list[zipfile.ZipInfo]) -> bool:
    """A zip the halves can be written from: no encryption, deflated or stored members,
    no sizes or offsets that need zip64."""
    return len(infos) < 0xFFFF and all(
        not info.flag_bits & 0x1
        and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        and max(info.file_size, info.compress_size, info.header_offset) < 0x7FFFFFFF
        for info in infos
    )


def _write_half(
    out_file: IO[bytes], fd: int, infos: list[zipfile.ZipInfo], position: int, *, second: bool
) -> int | None:
    """Write the workbook of one half to ``out_file``; the row cut at, or None where no
    row to cut at was found (the file is then of no use)."""
    out = _ZipOut(out_file, fd)
    for other in infos[:position]:
        out.copy(other)
    member = out.begin(infos[position])
    sections = _Sections(fd, infos[position])
    for in_second, text in sections:
        if in_second != second:
            if second:
                continue  # the first half, which the other process writes
            break  # the first half is written
        if second and sections.row is not None and member.size == 0:
            member.write(sections.opening)
        member.write(text)
    if sections.row is None:
        return None
    if not second:
        member.write(_CLOSE)
    member.end()
    for other in infos[position + 1 :]:
        out.copy(other)
    out.close()
    return sections.row


class _Sections:
    """The member's XML in pieces, each marked as of the first half or of the second: the
    same pieces, and the same cut, in either process (the same bytes are inflated in the
    same steps and searched alike). ``row`` is set once the cut is found, with
    ``opening``, the XML up to and including ``<sheetData>``."""

    def __init__(self, fd: int, info: zipfile.ZipInfo) -> None:
        self.fd = fd
        self.info = info
        self.row: int | None = None
        self.opening = b""

    def __iter__(self) -> Iterator[tuple[bool, bytes | memoryview]]:
        head = b""
        opened = False
        middle = self.info.file_size // 2
        done = 0  # bytes of XML inflated before the piece in hand
        carry = b""  # the end of the last piece, held back: a cut's pattern may start there
        pieces = _inflated(self.fd, self.info)
        for piece in pieces:
            if not opened:
                head += piece
                at = head.find(_SHEET_DATA)
                if at >= 0:
                    self.opening, opened, head = head[: at + len(_SHEET_DATA)], True, b""
                elif len(head) > _OPENING_LIMIT:
                    return
            if opened and done + len(piece) > middle:
                # A cut starting in what was held back, then one in this piece.
                seam = carry + piece[:_CARRY]
                found = _CUT.search(seam, max(0, middle - (done - len(carry))))
                if found is not None and found.start() < len(carry):
                    self.row = int(found.group(1))
                    yield False, carry[: found.start()]
                    yield True, carry[found.start() :]
                    yield True, piece
                    yield from ((True, rest) for rest in pieces)
                    return
                found = _CUT.search(piece, max(0, middle - done))
                if found is not None:
                    self.row = int(found.group(1))
                    yield False, carry
                    yield False, memoryview(piece)[: found.start()]
                    yield True, memoryview(piece)[found.start() :]
                    yield from ((True, rest) for rest in pieces)
                    return
                if done > middle + SEARCH_BYTES:
                    return
            yield False, carry
            keep = min(len(piece), _CARRY)
            yield False, memoryview(piece)[: len(piece) - keep]
            carry = piece[len(piece) - keep :]
            done += len(piece)


def _fork_second(
    fd: int, infos: list[zipfile.ZipInfo], position: int, read_second: Callable[[str, int], None]
) -> int:
    """Fork the second half's reader: it writes its half's workbook and reads it, or
    exits 2 where no cut is found."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        # Ended with the probe's child (whose parent may kill it for taking too long).
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
        second = _scratch()
        row = _write_half(second, fd, infos, position, second=True)
        if row is None:
            code = 2
        else:
            read_second(f"/proc/self/fd/{second.fileno()}", row)
            code = 0
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.write(2, f"fast read, second half: {type(exc).__name__}: {exc}\n".encode())
    finally:
        os._exit(code)


def _inflated(fd: int, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's XML in pieces, inflated with ISA-L from positional reads of ``fd``
    (the forked reader shares the file's offset, so none is used)."""
    position = _data_start(fd, info)
    end = position + info.compress_size
    inflater = isal_zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while position < end:
        compressed = os.pread(fd, min(_IN, end - position), position)
        if not compressed:
            raise ValueError("the zip member ends early")
        position += len(compressed)
        piece = inflater.decompress(compressed) if inflater is not None else compressed
        if piece:
            yield piece
    if inflater is not None:
        tail = inflater.flush()
        if tail:
            yield tail


def _data_start(fd: int, info: zipfile.ZipInfo) -> int:
    header = os.pread(fd, 30, info.header_offset)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ValueError("a zip member's local header is missing")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return int(info.header_offset) + 30 + int(name_length) + int(extra_length)


class _ZipOut:
    """A zip archive written to ``out``: members copied as they are from the archive open
    as ``fd``, and one member written as it is deflated (:meth:`begin`)."""

    def __init__(self, out: IO[bytes], fd: int) -> None:
        self.out = out
        self.fd = fd
        self.directory: list[bytes] = []

    def _local(self, info: zipfile.ZipInfo, crc: int, compressed: int, size: int) -> bytes:
        return struct.pack("<I", 0x04034B50) + _entry(info, crc, compressed, size) + _name(info)

    def _central(
        self, info: zipfile.ZipInfo, crc: int, compressed: int, size: int, at: int
    ) -> None:
        # Made by and needed: version 2.0; then no comment, disk 0, no attributes.
        head = struct.pack("<IH", 0x02014B50, 20) + _entry(info, crc, compressed, size)
        self.directory.append(head + struct.pack("<HHHII", 0, 0, 0, 0, at) + _name(info))

    def copy(self, info: zipfile.ZipInfo) -> None:
        at = self.out.tell()
        self.out.write(self._local(info, info.CRC, info.compress_size, info.file_size))
        position = _data_start(self.fd, info)
        left = info.compress_size
        while left:
            piece = os.pread(self.fd, min(_IN, left), position)
            if not piece:
                raise ValueError("the zip member ends early")
            self.out.write(piece)
            position += len(piece)
            left -= len(piece)
        self._central(info, info.CRC, info.compress_size, info.file_size, at)

    def begin(self, info: zipfile.ZipInfo) -> _MemberOut:
        deflated = zipfile.ZipInfo(info.filename, info.date_time)
        deflated.flag_bits = info.flag_bits & 0x0800
        deflated.compress_type = zipfile.ZIP_DEFLATED
        return _MemberOut(self, deflated)

    def close(self) -> None:
        at = self.out.tell()
        directory = b"".join(self.directory)
        self.out.write(directory)
        count = len(self.directory)
        self.out.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), at, 0)
        )
        self.out.flush()


class _MemberOut:
    """One member written as it is deflated: its local header is written again, with its
    CRC and sizes, once it ends."""

    def __init__(self, archive: _ZipOut, info: zipfile.ZipInfo) -> None:
        self.archive = archive
        self.info = info
        self.at = archive.out.tell()
        archive.out.write(archive._local(info, 0, 0, 0))
        self.deflater = isal_zlib.compressobj(_LEVEL, isal_zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def write(self, text: bytes | memoryview) -> None:
        self.crc = isal_zlib.crc32(text, self.crc)
        self.size += len(text)
        packed = self.deflater.compress(text)
        self.compressed += len(packed)
        self.archive.out.write(packed)

    def end(self) -> None:
        packed = self.deflater.flush()
        self.compressed += len(packed)
        out = self.archive.out
        out.write(packed)
        if max(self.size, self.compressed) >= 0x7FFFFFFF:
            raise ValueError("a half too large for a plain zip")
        after = out.tell()
        out.seek(self.at)
        out.write(self.archive._local(self.info, self.crc, self.compressed, self.size))
        out.seek(after)
        self.archive._central(self.info, self.crc, self.compressed, self.size, self.at)


def _entry(info: zipfile.ZipInfo, crc: int, compressed: int, size: int) -> bytes:
    """The fields a member's local header and its central directory entry share: version
    needed (2.0), flags (only UTF-8 names kept), method, time, CRC, sizes, the name's
    length and no extra field."""
    time, date = _dos_time(info.date_time)
    flags = info.flag_bits & 0x0800
    name = len(_name(info))
    return struct.pack(
        "<HHHHHIIIHH", 20, flags, info.compress_type, time, date, crc, compressed, size, name, 0
    )


def _name(info: zipfile.ZipInfo) -> bytes:
    return info.filename.encode("utf-8" if info.flag_bits & 0x0800 else "cp437")


def _dos_time(when: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = when
    year = max(1980, min(year, 2107))
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _scratch() -> IO[bytes]:
    """An unlinked file in memory for a half's workbook (a temporary file where Linux
    offers no memfd)."""
    create = getattr(os, "memfd_create", None)
    if create is not None:
        with contextlib.suppress(OSError):
            return os.fdopen(create("dap-half-workbook"), "w+b")
    import tempfile  # noqa: PLC0415

    return tempfile.TemporaryFile()


# ---------------------------------------------------------------- in the loader's process


def join_halves(
    first: pa.RecordBatch,
    first_absolute: list[int],
    header_row: int,
    second: tuple[pa.RecordBatch, list[int]] | None,
    row: int,
) -> pa.Table | None:
    """The sheet's columns below the header, as a whole read gives them: the first half's
    (below ``header_row``, at positions ``first_absolute``) then the second half's (from
    ``row`` on, with its positions), by column position, each column in chunks (no copy).
    None where they do not make the sheet: no second half, the first half reaching row
    ``row``, a column whose types differ, a column only the second half has."""
    if second is None:
        return None
    later, later_absolute = second
    gap = row - 1 - (header_row + first.num_rows)  # empty rows above the cut, if any
    if gap < 0:
        return None
    by_position = dict(zip(later_absolute, later.columns, strict=True))
    for position, values in by_position.items():
        if position not in first_absolute and values.null_count < len(values):
            return None
    columns: list[pa.ChunkedArray] = []
    for position, above in zip(first_absolute, first.columns, strict=True):
        values, other = above, by_position.get(position)
        if other is None:
            other = pa.nulls(later.num_rows, values.type)
        elif other.type != values.type:
            if other.null_count == len(other):
                other = pa.nulls(len(other), values.type)
            elif values.null_count == len(values):
                values = pa.nulls(len(values), other.type)
            else:
                return None
        chunks = [values, pa.nulls(gap, values.type), other] if gap else [values, other]
        columns.append(pa.chunked_array(chunks, values.type))
    return pa.Table.from_arrays(columns, names=first.schema.names)
