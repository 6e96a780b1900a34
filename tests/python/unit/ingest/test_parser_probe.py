"""The parser probe (dap.ingest.guard.ParserProbe): its verdicts on the child it starts."""

from __future__ import annotations

import time

import pytest

from dap.errors import WorkbookError
from dap.ingest.guard import _probe
from dap.ingest.guard._probe import ParserProbe


def _probe_running(monkeypatch: pytest.MonkeyPatch, script: str) -> ParserProbe:
    monkeypatch.setattr(_probe, "_PROBE", script)
    return ParserProbe("book.xlsx", b"PK\x03\x04 not really a workbook")


def test_a_child_that_runs_too_long_is_stopped_and_named(monkeypatch) -> None:
    monkeypatch.setattr(_probe, "PROBE_SECONDS", 0.5)
    probe = _probe_running(monkeypatch, "import time; time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(WorkbookError, match=r"book\.xlsx.*took over 0\.5 s"):
        probe.result()
    assert time.monotonic() - started < 30  # stopped, not waited for


def test_a_child_that_ends_in_time_is_answered_at_once(monkeypatch) -> None:
    probe = _probe_running(monkeypatch, "import sys; sys.stdin.buffer.read()")
    probe.result()  # no error: an ordinary end


def test_a_child_killed_by_a_signal_is_a_refusal_naming_it(monkeypatch) -> None:
    probe = _probe_running(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(WorkbookError, match="stopped by signal 11"):
        probe.result()


def test_the_workbook_bytes_can_be_opened_again_while_the_probe_runs(monkeypatch) -> None:
    probe = _probe_running(monkeypatch, "import time; time.sleep(1)")
    try:
        path = probe.file_path()
        assert path is not None
        with open(path, "rb") as opened:
            assert opened.read() == b"PK\x03\x04 not really a workbook"
    finally:
        probe.stop()
