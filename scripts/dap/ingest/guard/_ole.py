"""OLE compound files (a legacy `.xls`, an encrypted `.xlsx`): refuse Office encryption.

A password-protected `.xlsx` is not a zip but an OLE compound file holding an
``EncryptedPackage`` stream; a protected `.xls` has a ``FILEPASS`` record at the start of
its workbook stream. Either is refused with a message saying so.

A legacy `.xls` is not compressed and its grid is capped by the format (65,536 rows by
256 columns, which is :data:`~dap.ingest.guard.MAX_SHEET_CELLS`), so only its encryption
is checked here; a damaged record is left to the parser probe (:mod:`._probe`).
"""

from __future__ import annotations

import struct

from dap.errors import Location, WorkbookError

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_BIFF8_GLOBALS_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00"
_FILEPASS = 0x002F
_BOUNDSHEET = 0x0085
_EOF_RECORD = 0x000A

ENCRYPTED_WORKBOOK = (
    "password-protected: the workbook is encrypted and cannot be read; open it in Excel, "
    "save it without a password (File > Info > Protect Workbook > Encrypt with Password, "
    "clear the password) and load that copy"
)


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
