"""The local warehouse, and the one query for the yearly figures.

The local dbt target (DuckDB) writes the curated and trusted zones to
``<lake>/warehouse.duckdb``; ``dap summary`` and ``dap report`` read the marts from there
through :func:`connect`, and the yearly figures through :meth:`Warehouse.read_yearly`.
On Athena, query ``trusted.fct_calls_handled_yearly`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dap.errors import DapError

if TYPE_CHECKING:
    import duckdb

WAREHOUSE_FILE = "warehouse.duckdb"
TO_BUILD = "load extracts with `dap load`, then run `dbt build` (see README)"
"""What to run when the warehouse or its marts are missing."""
NO_DUCKDB = (
    "the Python package duckdb is not installed, and reading the warehouse needs it; "
    "install it with `pip install duckdb` (or reinstall dap: `pip install .`)"
)

YEARLY_QUERY = (
    "select year, calls_offered, calls_handled, calls_handled_pct, service_level,"
    " avg_speed_of_answer_seconds, days_reported, first_reported_date, last_reported_date"
    " from trusted.fct_calls_handled_yearly order by year"
)
"""The yearly figures, in the order of :class:`Year`'s fields."""


@dataclass(frozen=True)
class Year:
    """A row of ``trusted.fct_calls_handled_yearly``."""

    year: int
    offered: int
    handled: int
    handled_pct: float | None
    service_level: float | None
    """A share, 0 to 1."""
    speed_of_answer: float | None
    """Average speed of answer, in seconds."""
    days: int
    first_day: date
    last_day: date

    @property
    def service_level_pct(self) -> float | None:
        return None if self.service_level is None else self.service_level * 100

    @property
    def is_partial(self) -> bool:
        """True when the figures do not cover the whole calendar year."""
        return (self.first_day, self.last_day) != (date(self.year, 1, 1), date(self.year, 12, 31))

    def change_from(self, previous: Year | None) -> float | None:
        """Year-over-year change of the calls-handled percentage, in points."""
        if previous is None or previous.handled_pct is None or self.handled_pct is None:
            return None
        return round(self.handled_pct - previous.handled_pct, 2)


@dataclass(frozen=True)
class Warehouse:
    """An open, read-only connection to the warehouse at ``path``."""

    path: Path
    connection: duckdb.DuckDBPyConnection

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(query).fetchall()

    def read_yearly(self) -> list[Year]:
        """The yearly figures, oldest first; DapError when the marts have none."""
        years = [Year(*row) for row in self.rows(YEARLY_QUERY)]
        if not years:
            raise DapError(f"{self.path}: the trusted marts are empty; {TO_BUILD}")
        return years


def warehouse_path(lake_uri: str) -> Path:
    """Where the warehouse of a local lake is; DapError for an s3:// lake."""
    if "://" in lake_uri:
        raise DapError(
            f"{lake_uri}: dap reads the local DuckDB warehouse; for an S3 lake, query "
            "the trusted marts through Athena"
        )
    return Path(lake_uri) / WAREHOUSE_FILE


@contextmanager
def connect(path: Path) -> Iterator[Warehouse]:
    """The warehouse at ``path``, read-only. Raises DapError, saying what to run, when
    there is none yet, when duckdb is not installed, or when the marts cannot be read
    (not built yet, a model missing, the file locked by a running ``dbt build``)."""
    try:
        import duckdb  # noqa: PLC0415 - only reading the warehouse needs it
    except ImportError as exc:
        raise DapError(NO_DUCKDB) from exc
    if not path.is_file():
        raise DapError(f"{path}: no warehouse yet; {TO_BUILD}")
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            yield Warehouse(path, connection)
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DapError(f"{path}: cannot read the marts ({reason}); run `dbt build` first") from exc
