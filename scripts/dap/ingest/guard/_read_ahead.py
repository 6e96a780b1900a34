"""Inflating a large zip member on a helper thread, a few pieces ahead of its reader."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import cast

_READ_AHEAD_FLOOR = 8 << 20
"""Members larger than this (8 MiB) are inflated by a helper thread (see :func:`_read_ahead`)."""
_READ_AHEAD_PIECES = 2
_READ_AHEAD_CHUNK = 2 << 20
"""The helper's pieces are larger (2 MiB) than the scan's: each hand-over waits for the
interpreter lock. Larger pieces cost memory and save nothing measurable (8 MiB held 50 MB
more at the peak of a one-million-row sheet, for the same CPU time)."""


def _read_ahead(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces``, made by a helper thread up to :data:`_READ_AHEAD_PIECES` ahead of the
    reader: ISA-L (like zlib) inflates without holding the interpreter lock, so a large sheet is
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
