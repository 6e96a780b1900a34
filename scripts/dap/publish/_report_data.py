"""What the report shows, read from the warehouse's marts, the quarantine and the
conflicts between extracts."""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Conflict:
    """A day on which two extracts disagree beyond rounding (a row of
    ``curated.conflicts_daily_metrics``): whose figures were used, and why."""

    day: date
    measures: str
    """The figures that differ, comma-separated (``calls_handled, service_level``)."""
    used: str
    """The file whose figures the marts use."""
    not_used: str
    decided_by: str
    """The step of the precedence rule that decided (``int_extract_precedence``):
    ``superseding``, ``reaches_later``, ``ingested_later`` or ``sha256_tie_break``."""
    used_reach: date | None
    not_used_reach: date | None
    supersede_reason: str | None

    @property
    def why(self) -> str:
        """The step of the rule that decided, in words."""
        if self.decided_by == "superseding":
            reason = f": {self.supersede_reason}" if self.supersede_reason else ""
            return f"loaded as a deliberate correction (dap load --supersede){reason}"
        if self.decided_by == "reaches_later":
            return (
                f"its data reaches a later date ({self.used_reach} against {self.not_used_reach})"
            )
        if self.decided_by == "ingested_later":
            return f"both reach {self.used_reach}; it was loaded later"
        return f"both reach {self.used_reach} and were loaded together; tie broken by sha256"


CONFLICTS_QUERY = (
    "select date, differing_columns, source_file_name, superseded_source_file_name,"
    " decided_by, reach_date, superseded_reach_date, supersede_reason"
    " from curated.conflicts_daily_metrics"
    " order by date, source_file_name, superseded_source_file_name, differing_columns"
)
"""Every disagreement, in the order of :class:`Conflict`'s fields."""


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
    conflicts: list[Conflict] = field(default_factory=list)
    """Days on which extracts disagree (``curated.conflicts_daily_metrics``)."""


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
        conflicts = [Conflict(*row) for row in dict.fromkeys(warehouse.rows(CONFLICTS_QUERY))]
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
    return ReportData(
        years, months, quarantined, missing, days[0], days[-1], built_at, daily, conflicts
    )
