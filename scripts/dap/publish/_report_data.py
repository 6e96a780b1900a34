"""What the report shows, read from the warehouse's marts and the quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dap.errors import DapError
from dap.publish._warehouse import TO_BUILD, WAREHOUSE_FILE, Year, connect

DAILY_COLUMNS = (
    "date",
    "calls_offered",
    "calls_handled",
    "calls_abandoned",
    "calls_handled_pct",
    "service_level",
    "avg_speed_of_answer_seconds",
    "source_file_name",
)
"""The daily figures offered as a download, from trusted.fct_contact_centre_daily."""


@dataclass(frozen=True)
class Month:
    start: date
    handled_pct: float | None


@dataclass(frozen=True)
class HeldBack:
    """A day the quarantine held back, with the rules its rows broke."""

    day: date
    reasons: str
    in_marts: bool
    """True when another extract's valid row for the day is in the marts."""


@dataclass(frozen=True)
class ReportData:
    years: list[Year]
    months: list[Month]
    quarantined: list[HeldBack]
    missing_days: list[date]
    first_day: date
    last_day: date
    built_at: datetime
    daily: list[tuple[object, ...]]
    """Rows of :data:`DAILY_COLUMNS`."""


def read_report_data(lake: Path) -> ReportData:
    """The figures of the local lake's warehouse (``<lake>/warehouse.duckdb``)."""
    path = lake / WAREHOUSE_FILE
    with connect(path) as warehouse:
        years = warehouse.read_yearly()
        months = [
            Month(*row)
            for row in warehouse.rows(
                "select month_start_date, calls_handled_pct"
                " from trusted.fct_calls_handled_monthly order by month_start_date"
            )
        ]
        quarantined = [
            HeldBack(*row)
            for row in warehouse.rows(
                "select date,"
                " string_agg(distinct quarantine_reason, '; ' order by quarantine_reason),"
                " bool_and(is_date_in_marts)"
                " from curated.quarantine_daily_metrics where date is not null"
                " group by date order by date"
            )
        ]
        daily = warehouse.rows(
            f"select {', '.join(DAILY_COLUMNS)}"  # noqa: S608 - constant column names
            " from trusted.fct_contact_centre_daily order by date"
        )
        # The build time the marts carry (macros/marts/build_metadata.sql), not a file date.
        ((built,),) = warehouse.rows("select max(built_at) from trusted.fct_calls_handled_yearly")
    if not daily:
        raise DapError(f"{path}: the trusted marts have no daily figures; {TO_BUILD}")
    days: list[date] = [row[0] for row in daily]
    # Missing: no figures in any extract. A day the quarantine held back is listed there.
    present = set(days) | {held.day for held in quarantined}
    span = (days[-1] - days[0]).days + 1
    missing = [day for day in (days[0] + timedelta(n) for n in range(span)) if day not in present]
    built_at = built.replace(tzinfo=UTC) if isinstance(built, datetime) else datetime.now(UTC)
    return ReportData(years, months, quarantined, missing, days[0], days[-1], built_at, daily)
