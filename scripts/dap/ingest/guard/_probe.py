"""The parser probe: the parser opens the workbook in a child process under a memory limit.

A damaged record can make the parser panic, or ask for terabytes and abort (a BOUNDSHEET
pointing past the end of the stream, a DIMENSIONS record whose first row is after its
last), and that must end in a message, not in the loader dying. So :class:`ParserProbe`
has it open the workbook (and, for a legacy `.xls`, read every sheet) in a child process
limited to :data:`PROBE_MEMORY`, at the same time as the container check. Opening an
`.xlsx` is cheap (its sheets are read later, measured by the container check); an `.xls`
is at most 65,536 rows a sheet. A large `.xlsx` is also read to Arrow there
(:mod:`dap.ingest.workbook._fast`).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Protocol

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
    file.

    On Linux the child is forked: it starts with the loader's modules already imported
    (a fresh interpreter spends about a quarter of a second importing the readers before
    it reads a cell, and the parse of a large sheet is what the loader waits for).
    Elsewhere it is a fresh interpreter running :data:`_PROBE`."""

    def __init__(self, file_name: str, data: bytes, fast_read_to: Path | None = None) -> None:
        self.where = Location(file_name)
        every_sheet = data.startswith(_CFB_MAGIC)
        self.stdin = _scratch_file()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.stdin.write(data)
            self.stdin.flush()
            self.stdin.seek(0)
            if _FORK:
                self.process: _Child = _Forked(self.stdin, self.stderr, every_sheet, fast_read_to)
            else:
                command = [sys.executable, "-I", "-c", _PROBE, str(PROBE_MEMORY)]
                command += [str(int(every_sheet)), str(Path(__file__).resolve().parents[3])]
                if fast_read_to is not None:  # and read the large sheets to Arrow
                    command.append(str(fast_read_to))
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


class _Child(Protocol):
    def kill(self) -> None: ...
    def wait(self) -> int: ...


class _Forked:
    """The probe's child as a fork of this process, running :func:`_child_main`."""

    def __init__(
        self, stdin: IO[bytes], stderr: IO[bytes], every_sheet: bool, fast_read_to: Path | None
    ) -> None:
        source = f"/proc/self/fd/{stdin.fileno()}"
        self.returncode: int | None = None
        self.lock = threading.Lock()
        pid = os.fork()
        if pid == 0:  # the child: whatever happens, it leaves through os._exit
            code = 1
            try:
                os.dup2(stderr.fileno(), 2)
                # A crash is the verdict, told by the exit status: no traceback from the
                # parent's fault handler (a test runner's) onto the parent's terminal.
                faulthandler.disable()
                code = _child_main(source, every_sheet, fast_read_to)
            except BaseException as exc:
                _say(f"the probe failed: {type(exc).__name__}: {exc}")
            finally:
                os._exit(code)
        self.pid = pid
        # A descriptor for the child itself: a signal sent through it can never reach
        # another process that was given the same number after this one was reaped.
        self.pidfd = os.pidfd_open(pid)

    def kill(self) -> None:
        with self.lock:
            if self.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            with self.lock:
                self.returncode = os.waitstatus_to_exitcode(status)
                os.close(self.pidfd)
        return self.returncode


def _child_main(source: str, every_sheet: bool, fast_read_to: Path | None) -> int:
    """The probe's work in the child: the parser opens ``source`` (and reads every sheet
    when ``every_sheet``), then, when ``fast_read_to`` is given, the large sheets are
    read to Arrow there (:func:`dap.ingest.workbook._fast.read_in_child`). Returns the exit
    code: 0, or :data:`_PROBE_PANIC` when the parser panicked (its message on stderr)."""
    gc.disable()  # a short life: and a collection would copy the parent's pages it visits
    _limit_memory()
    from python_calamine import CalamineWorkbook  # noqa: PLC0415 - the child's import

    try:
        book = CalamineWorkbook.from_path(source)
        if every_sheet:
            for name in book.sheet_names:
                book.get_sheet_by_name(name)
    except Exception:  # noqa: S110 - an ordinary error: the loader meets it and reports it
        pass
    except BaseException as exc:  # a Rust panic (pyo3's PanicException)
        _say(str(exc))
        return _PROBE_PANIC
    if fast_read_to is not None:
        # The workbook package reads the sheets: imported by name, as the probe comes
        # before it (the loader's process has imported it already).
        from dap.ingest.workbook._fast import read_in_child  # noqa: PLC0415

        try:
            read_in_child(source, fast_read_to)
        except Exception as exc:
            _say(f"fast read: {type(exc).__name__}: {exc}")
        except BaseException as exc:  # a panic in fastexcel: the same, never a refusal
            _say(f"fast read: {exc}")
    return 0


def _limit_memory() -> None:
    """Limit the address space the child may add to :data:`PROBE_MEMORY` beyond what it
    maps already (a forked child starts with the loader's mappings)."""
    try:
        import resource  # noqa: PLC0415 - not on every platform

        mapped = 0
        with (
            contextlib.suppress(OSError, ValueError, IndexError),
            open("/proc/self/statm", "rb") as statm,
        ):
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + PROBE_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # a platform without the limit: the probe still catches panics and aborts


def _say(text: str) -> None:
    """Write a line to the child's stderr by its descriptor (the interpreter's stream
    objects may hold a lock another thread of the parent held when it forked)."""
    with contextlib.suppress(OSError):
        os.write(2, f"{text}\n".encode("utf-8", "replace"))


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
_FORK = sys.platform == "linux" and hasattr(os, "pidfd_open")
"""Fork the probe's child (Linux); elsewhere (or with this False) start an interpreter."""
_PROBE = r"""
import sys
sys.path.insert(0, sys.argv[3])  # the loader's own package, whatever -I leaves out
from pathlib import Path
from dap.ingest.guard import _probe
_probe.PROBE_MEMORY = int(sys.argv[1])
import os, tempfile
# The workbook is the file on stdin; where it cannot be opened by name, a copy of it.
source, copy = "/proc/self/fd/0", None
if not Path(source).exists():
    copy = tempfile.NamedTemporaryFile(delete=False, suffix=".bin")
    with copy:
        copy.write(sys.stdin.buffer.read())
    source = copy.name
fast_read_to = Path(sys.argv[4]) if len(sys.argv) > 4 else None
try:
    code = _probe._child_main(source, sys.argv[2] == "1", fast_read_to)
finally:
    if copy is not None:
        os.unlink(copy.name)
sys.stderr.flush()
os._exit(code)  # done: no teardown of the interpreter to wait for
"""
