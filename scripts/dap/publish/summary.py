"""``dap summary``: the yearly calls-handled table, read from the local warehouse."""

from __future__ import annotations

from dataclasses import dataclass

from dap.publish._warehouse import Year, connect, warehouse_path

_HEADINGS = ("year", "offered", "handled", "handled %", "service level", "avg answer (s)", "days")


@dataclass(frozen=True)
class Summary:
    yearly: list[Year]
    quarantined_rows: int
    quarantined_days: int
    conflicting_rows: int
    conflicting_days: int = 0


def read_summary(lake_uri: str) -> Summary:
    with connect(warehouse_path(lake_uri)) as warehouse:
        yearly = warehouse.read_yearly()
        ((quarantined_rows, quarantined_days),) = warehouse.rows(
            "select count(distinct source_file_sha256 || ':' || source_sheet || ':' "
            "|| cast(source_row_number as varchar)), count(distinct date) "
            "from curated.quarantine_daily_metrics"
        )
        ((conflicting_rows, conflicting_days),) = warehouse.rows(
            "select count(*), count(distinct date) from curated.conflicts_daily_metrics"
        )
    return Summary(
        yearly,
        int(quarantined_rows),
        int(quarantined_days),
        int(conflicting_rows),
        int(conflicting_days),
    )


def _number(value: float | None, *, scale: float = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value * scale:,.2f}{unit}"


def _cells(year: Year) -> list[str]:
    return [
        str(year.year),
        f"{year.offered:,}",
        f"{year.handled:,}",
        _number(year.handled_pct),
        _number(year.service_level, scale=100, unit=" %"),
        _number(year.speed_of_answer),
        f"{year.days:,}",
    ]


def format_summary(summary: Summary) -> str:
    rows = [_cells(year) for year in summary.yearly]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(_HEADINGS)]
    line = "  ".join("-" * w for w in widths)
    out = ["Calls handled by year (trusted.fct_calls_handled_yearly)", ""]
    out.append("  ".join(h.rjust(w) for h, w in zip(_HEADINGS, widths, strict=True)))
    out.append(line)
    out.extend("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    out.append("")
    out.append(
        f"quarantined: {summary.quarantined_rows} row(s) on {summary.quarantined_days} day(s) "
        "(curated.quarantine_daily_metrics); "
        f"conflicting extract rows: {summary.conflicting_rows} on "
        f"{summary.conflicting_days} day(s) (curated.conflicts_daily_metrics: the figures "
        "used and why; `dap report` lists them)"
    )
    return "\n".join(out)
