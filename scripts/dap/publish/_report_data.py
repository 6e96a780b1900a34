"""What the report shows, read from the warehouse's marts, the quarantine and the
conflicts between extracts."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dap.errors import DapError
from dap.publish._planning import Planning, read_planning
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


MonthDay = tuple[int, int]


def _on(year: int, day: MonthDay) -> date:
    """The day of ``year`` (29 February of a common year: the 28th)."""
    month, number = day
    return date(year, month, min(number, calendar.monthrange(year, month)[1]))


def period_words(start: date, end: date) -> str:
    """``January-September`` for whole months, else ``15 June-31 December``, with en dashes."""
    whole = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if whole:
        first, last = calendar.month_name[start.month], calendar.month_name[end.month]
        return first if start.month == end.month else f"{first}\u2013{last}"
    return (
        f"{start.day} {calendar.month_name[start.month]}\u2013"
        f"{end.day} {calendar.month_name[end.month]}"
    )


@dataclass(frozen=True)
class Change:
    """A year's calls-handled percentage against the year before's, like with like: the
    whole years when both are whole; otherwise over the days of the year both cover (a
    year of January to September against January to September of the year before)."""

    year: int
    pct: float | None
    previous_pct: float | None
    first: MonthDay | None
    last: MonthDay | None
    """The days of the year compared (month, day); None when the two years have none in
    common."""
    whole_years: bool

    @property
    def points(self) -> float | None:
        """The change, in percentage points."""
        if self.pct is None or self.previous_pct is None:
            return None
        return round(self.pct - self.previous_pct, 2)

    @property
    def period(self) -> str:
        """The days compared, in words (see :func:`period_words`)."""
        if self.first is None or self.last is None:
            return ""
        return period_words(_on(self.year, self.first), _on(self.year, self.last))

    @property
    def words(self) -> str:
        """The comparison in a sentence, for a partial year."""
        before = self.year - 1
        if self.first is None:
            return f"{self.year} and {before} cover no common days of the year: no change shown."
        if self.points is None:
            return f"{self.year}: no figures for {self.period} {before} to compare with."
        return (
            f"{self.year} compares {self.period} {self.year} with {self.period} {before}: "
            f"{self.pct:.2f} % against {self.previous_pct:.2f} %, "
            f"{self.points:+.2f} points."
        ).replace("-", "\u2212")


def _pct_over(
    daily: Sequence[Sequence[object]], year: int, first: MonthDay, last: MonthDay
) -> float | None:
    """Calls handled over calls offered (%) of ``year``'s days from ``first`` to ``last``,
    from rows of :data:`DAILY_COLUMNS` (a ratio of sums, as the marts compute it)."""
    offered = handled = 0
    for row in daily:
        day = row[0]
        if isinstance(day, date) and day.year == year and first <= (day.month, day.day) <= last:
            offered += int(row[1]) if isinstance(row[1], int) else 0
            handled += int(row[2]) if isinstance(row[2], int) else 0
    return round(100.0 * handled / offered, 2) if offered else None


def year_over_year(years: Sequence[Year], daily: Sequence[Sequence[object]]) -> dict[int, Change]:
    """Each year's :class:`Change` from the year before (none for the first year, or after a
    gap). Whole years compare the marts' figures; a partial year, or a year after one,
    compares the days of the year both cover, summed from the daily figures."""
    by_year = {y.year: y for y in years}
    changes: dict[int, Change] = {}
    for year in years:
        previous = by_year.get(year.year - 1)
        if previous is None:
            continue
        if not year.is_partial and not previous.is_partial:
            changes[year.year] = Change(
                year.year, year.handled_pct, previous.handled_pct, (1, 1), (12, 31), True
            )
            continue
        first = max(
            (year.first_day.month, year.first_day.day),
            (previous.first_day.month, previous.first_day.day),
        )
        last = min(
            (year.last_day.month, year.last_day.day),
            (previous.last_day.month, previous.last_day.day),
        )
        if first > last:
            changes[year.year] = Change(year.year, None, None, None, None, False)
            continue
        changes[year.year] = Change(
            year.year,
            _pct_over(daily, year.year, first, last),
            _pct_over(daily, previous.year, first, last),
            first,
            last,
            False,
        )
    return changes


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
    planning: Planning = field(default_factory=Planning)
    """The planning marts' rows (none read: each section says it is not built yet)."""


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
        planning = read_planning(warehouse)
    if not daily:
        raise DapError(f"{path}: the trusted marts have no daily figures; {TO_BUILD}")
    days: list[date] = [row[0] for row in daily]
    # Missing: no figures in any extract. A day the quarantine held back is listed there.
    present = set(days) | {held.day for held in quarantined}
    span = (days[-1] - days[0]).days + 1
    missing = [day for day in (days[0] + timedelta(n) for n in range(span)) if day not in present]
    built_at = built.replace(tzinfo=UTC) if isinstance(built, datetime) else datetime.now(UTC)
    return ReportData(
        years, months, quarantined, missing, days[0], days[-1], built_at, daily, conflicts, planning
    )
