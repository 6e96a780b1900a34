"""``dap summary``: the yearly calls-handled table, read from the local warehouse.

The local dbt target (DuckDB) writes the curated and trusted zones to
``<lake>/warehouse.duckdb``; this reads the trusted marts from there. On Athena,
query ``trusted.fct_calls_handled_yearly`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dap.errors import DapError

WAREHOUSE_FILE = "warehouse.duckdb"
YEARLY_COLUMNS = (
    "year",
    "calls_offered",
    "calls_handled",
    "calls_handled_pct",
    "service_level",
    "avg_speed_of_answer_seconds",
    "days_reported",
)
_YEARLY_QUERY = (
    "select year, calls_offered, calls_handled, calls_handled_pct, service_level,"
    " avg_speed_of_answer_seconds, days_reported"
    " from trusted.fct_calls_handled_yearly order by year"
)
_HEADINGS = ("year", "offered", "handled", "handled %", "service level", "avg answer (s)", "days")


@dataclass(frozen=True)
class Summary:
    yearly: list[tuple[object, ...]]
    quarantined_rows: int
    quarantined_days: int
    conflicting_rows: int


def warehouse_path(lake_uri: str) -> Path:
    if "://" in lake_uri:
        raise DapError(
            f"{lake_uri}: the summary reads the local DuckDB warehouse; for an S3 lake, query "
            "the trusted marts through Athena"
        )
    return Path(lake_uri) / WAREHOUSE_FILE


def read_summary(lake_uri: str) -> Summary:
    import duckdb  # noqa: PLC0415 - installed with dbt-duckdb; only this command needs it

    path = warehouse_path(lake_uri)
    if not path.is_file():
        raise DapError(f"{path}: no warehouse yet; run `dbt build` first (see README)")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            yearly = con.execute(_YEARLY_QUERY).fetchall()
            quarantine = con.execute(
                "select count(distinct source_file_sha256 || ':' || source_sheet || ':' "
                "|| cast(source_row_number as varchar)), count(distinct date) "
                "from curated.quarantine_daily_metrics"
            ).fetchone()
            conflicts = con.execute(
                "select count(*) from curated.conflicts_daily_metrics"
            ).fetchone()
    except duckdb.Error as exc:
        raise DapError(f"{path}: cannot read the marts ({exc}); run `dbt build` first") from exc
    assert quarantine is not None
    assert conflicts is not None
    return Summary(yearly, int(quarantine[0]), int(quarantine[1]), int(conflicts[0]))


def _cell(value: object, column: str) -> str:
    if value is None:
        return "-"
    if column == "service_level" and isinstance(value, float):
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and column != "year":
        return f"{value:,}"
    return str(value)


def format_summary(summary: Summary) -> str:
    rows = [
        [_cell(v, c) for v, c in zip(row, YEARLY_COLUMNS, strict=True)] for row in summary.yearly
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADINGS)]
    line = "  ".join("-" * w for w in widths)
    out = ["Calls handled by year (trusted.fct_calls_handled_yearly)", ""]
    out.append("  ".join(h.rjust(w) for h, w in zip(_HEADINGS, widths, strict=True)))
    out.append(line)
    out.extend("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    out.append("")
    out.append(
        f"quarantined: {summary.quarantined_rows} row(s) on {summary.quarantined_days} day(s) "
        "(curated.quarantine_daily_metrics); "
        f"conflicting extract rows: {summary.conflicting_rows} (curated.conflicts_daily_metrics)"
    )
    return "\n".join(out)
