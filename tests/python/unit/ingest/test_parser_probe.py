"""The parser probe (dap.ingest.guard.ParserProbe): its verdicts on the child it starts,
forked (Linux) or a fresh interpreter (elsewhere), and what the forked child is given."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

from dap.errors import WorkbookError
from dap.ingest.guard import _probe
from dap.ingest.guard._probe import ParserProbe

MODES = [
    pytest.param(
        True, id="forked", marks=pytest.mark.skipif(not _probe._FORK, reason="no fork here")
    ),
    pytest.param(False, id="interpreter"),
]


def _probe_running(monkeypatch: pytest.MonkeyPatch, forked: bool, code: str) -> ParserProbe:
    """A probe whose child runs ``code`` (Python source) instead of the parser."""
    monkeypatch.setattr(_probe, "_FORK", forked)
    if forked:

        def work(*_args: object) -> int:
            exec(code, {})
            return 0

        monkeypatch.setattr(_probe, "_child_main", work)
    else:
        monkeypatch.setattr(_probe, "_PROBE", code)
    return ParserProbe("book.xlsx", b"PK\x03\x04 not really a workbook")


@pytest.mark.parametrize("forked", MODES)
def test_a_child_that_runs_too_long_is_stopped_and_named(monkeypatch, forked) -> None:
    monkeypatch.setattr(_probe, "PROBE_SECONDS", 0.5)
    probe = _probe_running(monkeypatch, forked, "import time; time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(WorkbookError, match=r"book\.xlsx.*took over 0\.5 s"):
        probe.result()
    assert time.monotonic() - started < 30  # stopped, not waited for


@pytest.mark.parametrize("forked", MODES)
def test_a_child_that_ends_in_time_is_answered_at_once(monkeypatch, forked) -> None:
    probe = _probe_running(monkeypatch, forked, "x = 1")
    started = time.monotonic()
    probe.result()  # no error: an ordinary end
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("forked", MODES)
def test_a_child_killed_by_a_signal_is_a_refusal_naming_it(monkeypatch, forked) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    probe = _probe_running(monkeypatch, forked, code)
    with pytest.raises(WorkbookError, match="stopped by signal 11"):
        probe.result()


@pytest.mark.parametrize("forked", MODES)
def test_a_parser_that_aborts_asking_for_memory_is_named(monkeypatch, forked) -> None:
    # What Rust prints when an allocation fails, then the abort it ends in.
    code = (
        "import os, signal; os.write(2, b'memory allocation of 1099511627776 bytes failed\\n');"
        " os.kill(os.getpid(), signal.SIGABRT)"
    )
    probe = _probe_running(monkeypatch, forked, code)
    with pytest.raises(WorkbookError, match=r"asks for 1,099,511,627,776 bytes of memory"):
        probe.result()


def test_a_failure_of_the_forked_probe_itself_is_not_a_verdict_on_the_file(monkeypatch) -> None:
    if not _probe._FORK:
        pytest.skip("no fork here")
    probe = _probe_running(monkeypatch, True, "raise KeyError('the probe broke')")
    with pytest.raises(RuntimeError, match=r"the parser probe failed.*KeyError.*the probe broke"):
        probe.result()


@pytest.mark.parametrize("forked", MODES)
def test_the_workbook_bytes_can_be_opened_again_while_the_probe_runs(monkeypatch, forked) -> None:
    probe = _probe_running(monkeypatch, forked, "import time; time.sleep(1)")
    try:
        path = probe.file_path()
        assert path is not None
        with open(path, "rb") as opened:
            assert opened.read() == b"PK\x03\x04 not really a workbook"
    finally:
        probe.stop()


@pytest.mark.parametrize("forked", MODES)
def test_the_child_reads_the_workbook_by_its_path_and_finds_the_bytes(
    monkeypatch, forked, tmp_path: Path
) -> None:
    """The real child body, in either kind of child: it is handed a path holding the
    workbook's bytes, and its memory limit is set."""
    seen = tmp_path / "seen"
    monkeypatch.setattr(_probe, "_FORK", forked)
    if forked:
        real = _probe._child_main

        def spy(source: str, every_sheet: bool, fast_read_to: Path | None) -> int:
            seen.write_bytes(Path(source).read_bytes())
            return real(source, every_sheet, fast_read_to)

        monkeypatch.setattr(_probe, "_child_main", spy)
    else:
        monkeypatch.setattr(
            _probe,
            "_PROBE",
            f"import sys, shutil; shutil.copyfileobj(sys.stdin.buffer, open({str(seen)!r}, 'wb'))",
        )
    probe = ParserProbe("book.xlsx", b"PK\x03\x04 not really a workbook")
    probe.result()  # calamine fails to open it: an ordinary error, left to the loader
    assert seen.read_bytes() == b"PK\x03\x04 not really a workbook"


def test_the_forked_childs_memory_limit_is_added_to_what_it_maps(monkeypatch) -> None:
    """Forked, the child starts with the loader's mappings: the limit is the probe's
    allowance on top of them, so a loader that already maps much is not starved, and the
    parser still cannot take more than the allowance."""
    if not _probe._FORK:
        pytest.skip("no fork here")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _probe._limit_memory()
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            with open("/proc/self/statm", "rb") as statm:
                mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            os.write(write, f"{soft} {mapped}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        soft, mapped = map(int, answer.read().split())
    assert mapped < soft <= mapped + _probe.PROBE_MEMORY + (64 << 20)
    assert soft >= _probe.PROBE_MEMORY
