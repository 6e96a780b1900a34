"""Run `dap` and SIGKILL it at a chosen point of its writes (the crash-safety tests).

``DAP_KILL_AT=N`` kills the process at the N-th event (0-based) of a load: every write
to the lake (the audit trail's too: the event log's zero-row file, the load's events, its
audit record) is an event before it starts and, on a local lake, another once its
temporary file is complete but not yet renamed into place; every registration of
partitions in Glue (``GlueCatalog.add_partitions``, even of none) is an event before it
is sent. ``DAP_KILL_AT=-1`` kills nothing and prints the number of events
to stderr as ``events=N``, so a test can enumerate every point.

Used as ``python kill_load.py load WORKBOOK... --lake LAKE``; the arguments go to `dap`.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from dap.cli import main
from dap.lake import catalog
from dap.lake import storage as lake

KILL_AT = int(os.environ.get("DAP_KILL_AT", "-1"))
_events = 0


def _event() -> None:
    global _events  # noqa: PLW0603 - one counter for the whole process
    if _events == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    _events += 1


def _before(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _event()
        return function(*args, **kwargs)

    return wrapper


lake.LocalLake.write_bytes = _before(lake.LocalLake.write_bytes)  # type: ignore[method-assign]
lake.S3Lake.write_bytes = _before(lake.S3Lake.write_bytes)  # type: ignore[method-assign]
catalog.GlueCatalog.add_partitions = _before(catalog.GlueCatalog.add_partitions)  # type: ignore[method-assign]
_replace = os.replace


def _replace_after_event(src: Any, dst: Any) -> None:
    """The temporary file is complete; the rename has not happened yet."""
    _event()
    _replace(src, dst)


lake.os.replace = _replace_after_event  # type: ignore[attr-defined]

if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stderr.write(f"events={_events}\n")
    sys.exit(status)
