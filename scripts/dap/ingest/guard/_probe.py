"""The parser probe: the parser opens the workbook in a child process under a memory limit.

A damaged record can make the parser panic, or ask for terabytes and abort (a BOUNDSHEET
pointing past the end of the stream, a DIMENSIONS record whose first row is after its
last), and that must end in a message, not in the loader dying. So :class:`ParserProbe`
has it open the workbook (and, for a legacy `.xls`, read every sheet) in a child process
limited to :data:`PROBE_MEMORY`, at the same time as the container check. Opening an
`.xlsx` is cheap (its sheets are read later, measured by the container check); an `.xls`
is at most 65,536 rows a sheet.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from dap.errors import Location, WorkbookError
from dap.ingest.guard._ole import _CFB_MAGIC

PROBE_MEMORY = 3 << 30
"""Address space the parser may use in the probe (3 GiB): a legal `.xls` needs well under
1 GiB; asking for more is a damaged count."""
PROBE_SECONDS = 120


class ParserProbe:
    """Has the parser open the workbook (and read every sheet of a legacy `.xls`) in a
    child process limited to :data:`PROBE_MEMORY`: started now and finished by
    :meth:`result`, which raises :class:`WorkbookError` if the parser crashes there (an
    ordinary error is left for the loader to meet and report). It runs beside
    :func:`~dap.ingest.guard.check_archive` (it is another process: nothing the child does
    can harm this one). The workbook reaches the child through an unlinked temporary
    file."""

    def __init__(self, file_name: str, data: bytes, fast_read_to: Path | None = None) -> None:
        self.where = Location(file_name)
        every_sheet = data.startswith(_CFB_MAGIC)
        command = [sys.executable, "-I", "-c", _PROBE, str(PROBE_MEMORY), str(int(every_sheet))]
        if fast_read_to is not None:  # and read the large sheets to Arrow (workbook._fast)
            command += [str(fast_read_to), str(Path(__file__).resolve().parents[3])]
        self.stdin = _scratch_file()
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

    def file_path(self) -> str | None:
        """A path by which the workbook's bytes can be opened again while the probe runs
        (the unlinked file the child reads; it stays readable through what opened it),
        or None where there is none (no /proc)."""
        path = f"/proc/self/fd/{self.stdin.fileno()}"
        return path if Path(path).exists() else None

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
            # A blocking wait returns the moment the child ends (a wait with a timeout polls,
            # up to 50 ms late); a timer ends a child that runs too long.
            overdue = threading.Event()

            def stop_overdue() -> None:
                overdue.set()
                self.process.kill()

            timer = threading.Timer(PROBE_SECONDS, stop_overdue)
            timer.start()
            try:
                returncode = self.process.wait()
            finally:
                timer.cancel()
            if overdue.is_set():
                raise WorkbookError(
                    self.where,
                    f"not a readable Excel workbook (reading it took over {PROBE_SECONDS} s)",
                )
            self.stderr.seek(0)
            stderr = self.stderr.read(1 << 20)
        finally:
            self._close()
        _raise_for_probe(self.where, returncode, stderr)


def _scratch_file() -> IO[bytes]:
    """An unlinked file for the workbook's bytes: in memory where Linux offers one
    (memfd_create: writing 45 MB there takes a third of the time a file in /tmp takes, and
    the child is started that much sooner), else a temporary file. Closed by the probe."""
    create = getattr(os, "memfd_create", None)
    if create is not None:
        try:
            return os.fdopen(create("dap-probe-workbook"), "w+b")
        except OSError:
            pass  # no memfd here (an old kernel, a sandbox): a temporary file does
    return tempfile.TemporaryFile()


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
import io, os, sys
try:
    import resource
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ImportError, ValueError, OSError):
    pass  # a platform without the limit: the probe still catches panics and aborts
# The workbook is the file on stdin. Where it can be opened by name, the readers read it
# from there rather than from a copy in memory (a large .xlsx is read in full below).
source = "/proc/self/fd/0" if os.path.exists("/proc/self/fd/0") else sys.stdin.buffer.read()
from python_calamine import CalamineWorkbook
try:
    if isinstance(source, str):
        book = CalamineWorkbook.from_path(source)
    else:
        book = CalamineWorkbook.from_filelike(io.BytesIO(source))
    if sys.argv[2] == "1":
        for name in book.sheet_names:
            book.get_sheet_by_name(name)
except Exception:
    pass  # an ordinary error (MemoryError included): the loader meets it and reports it
except BaseException as exc:  # a Rust panic (pyo3's PanicException)
    sys.stderr.write(f"{exc}\n")
    sys.exit(3)
if len(sys.argv) > 3:
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])  # the loader's own package, whatever -I leaves out
    try:
        from dap.ingest.workbook._fast import read_in_child
        read_in_child(source, Path(sys.argv[3]))
        sys.stderr.flush()
        os._exit(0)  # done: no teardown of the interpreter to wait for
    except Exception as exc:  # noqa: BLE001 - the loader reads the sheets cell by cell
        sys.stderr.write(f"fast read: {type(exc).__name__}: {exc}\n")
    except BaseException as exc:  # a panic in fastexcel: the same, never a refusal
        sys.stderr.write(f"fast read: {exc}\n")
"""
