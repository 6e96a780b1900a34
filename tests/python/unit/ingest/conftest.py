"""Fixtures the ingest tests share."""

from __future__ import annotations

from typing import Any

import pytest

from dap.ingest.workbook import _read


@pytest.fixture
def cuts(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The row each sheet the fast read handed the loader was cut at (None: read whole;
    a sheet the loader did not take is not listed), parse after parse."""
    seen: list[int | None] = []
    real = _read.read_fast_sheets

    def spy(*args: Any, **kwargs: Any) -> Any:
        sheets = real(*args, **kwargs)
        seen.extend(sheet.split_row for sheet in sheets.values())
        return sheets

    monkeypatch.setattr(_read, "read_fast_sheets", spy)
    return seen
