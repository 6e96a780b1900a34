"""A small warehouse as `dbt build` leaves it, without running dbt: the marts and the
quarantine tables the summary and the report read, with the columns they read (the
planning marts too, with figures chosen for the readings the tests expect)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

_HOSTILE_REASON = "<script>alert(1)</script> calls handled exceed calls offered"
"""The quarantine reason of the held-back day: text from the data, escaped on the page."""

_MARTS = """
create schema trusted;
create schema curated;
-- 2023-11-01 to 2024-02-29 without 2023-12-25 (in no extract) and 2024-01-15 (held back)
create table trusted.fct_contact_centre_daily as
select
    cast(d as date) as date,
    cast(100 + dayofmonth(d) % 7 as bigint) as calls_offered,
    cast(90 + dayofmonth(d) % 5 as bigint) as calls_handled,
    cast(10 - dayofmonth(d) % 5 as bigint) as calls_abandoned,
    round(100.0 * (90 + dayofmonth(d) % 5) / (100 + dayofmonth(d) % 7), 2) as calls_handled_pct,
    cast(0.8 as double) as service_level,
    cast(30 + dayofmonth(d) % 3 as double) as avg_speed_of_answer_seconds,
    'extract-' || year(d) || '.xlsx' as source_file_name
from range(timestamp '2023-11-01', timestamp '2024-03-01', interval 1 day) as t (d)
where cast(d as date) not in (date '2023-12-25', date '2024-01-15');

create table trusted.fct_calls_handled_yearly as
select
    year(date) as year,
    sum(calls_offered) as calls_offered,
    sum(calls_handled) as calls_handled,
    round(100.0 * sum(calls_handled) / sum(calls_offered), 2) as calls_handled_pct,
    avg(service_level) as service_level,
    avg(avg_speed_of_answer_seconds) as avg_speed_of_answer_seconds,
    count(*) as days_reported,
    min(date) as first_reported_date,
    max(date) as last_reported_date,
    timestamp '2024-03-01 06:30:00' as built_at
from trusted.fct_contact_centre_daily
group by 1;

create table trusted.fct_calls_handled_monthly as
select
    cast(date_trunc('month', date) as date) as month_start_date,
    round(100.0 * sum(calls_handled) / sum(calls_offered), 2) as calls_handled_pct
from trusted.fct_contact_centre_daily
group by 1;

create table curated.quarantine_daily_metrics as
select
    'abc' as source_file_sha256,
    'Daily' as source_sheet,
    42 as source_row_number,
    date '2024-01-15' as date,
    $reason$ as quarantine_reason,
    false as is_date_in_marts;

-- One day on which an archived extract disagrees with the export (whose data reaches later).
create table curated.conflicts_daily_metrics as
select
    date '2024-02-01' as date,
    'calls_offered' as differing_columns,
    'export.xlsx' as source_file_name,
    'archive-<2024>.xlsx' as superseded_source_file_name,
    'reaches_later' as decided_by,
    date '2024-02-29' as reach_date,
    date '2024-02-10' as superseded_reach_date,
    cast(null as varchar) as supersede_reason;

-- The planning marts. The profile: each weekday of each month over the two years.
create table trusted.fct_contact_centre_weekday_profile as
select
    cast(month(date) as integer) as month_of_year,
    monthname(date) as month_name,
    cast(isodow(date) as integer) as iso_weekday,
    dayname(date) as weekday_name,
    2023 as first_year,
    2024 as last_year,
    count(*) as days,
    round(avg(calls_offered), 2) as calls_offered_mean,
    cast(median(calls_offered) as double) as calls_offered_median,
    round(stddev_samp(calls_offered), 2) as calls_offered_stddev,
    min(calls_offered) as calls_offered_min,
    max(calls_offered) as calls_offered_max,
    round(sum(service_level * calls_offered) / sum(calls_offered), 4) as service_level,
    round(100.0 * sum(calls_abandoned) / sum(calls_offered), 2) as calls_abandoned_pct
from trusted.fct_contact_centre_daily
group by all;

-- One strain day in 2023 and two in 2024 (the last year in the data), a Monday and a
-- Tuesday: service level 41 % and 62 % against 79 % and 81 % around them.
create table trusted.fct_contact_centre_strain_days as
select
    date,
    cast(year as integer) as year,
    cast(iso_weekday as integer) as iso_weekday,
    weekday_name,
    cast(calls_offered as bigint) as calls_offered,
    baseline_median,
    robust_z,
    service_level,
    baseline_service_level,
    avg_speed_of_answer_seconds,
    calls_abandoned_pct
from (values
    (date '2023-11-20', 2023, 1, 'Monday', 180, 103.0, 5.2, 0.55, 0.80, 95.0, 12.5),
    (date '2024-01-08', 2024, 1, 'Monday', 2240, 1104.5, 7.9, 0.41, 0.79, 180.5, 20.1),
    (date '2024-02-13', 2024, 2, 'Tuesday', 199, 103.0, 4.4, 0.62, 0.81, 70.0, 9.0)
) as t (
    date, year, iso_weekday, weekday_name, calls_offered, baseline_median, robust_z,
    service_level, baseline_service_level, avg_speed_of_answer_seconds, calls_abandoned_pct
);

-- 2023 has too few days for a slope (null); in 2024 1,000 more calls a day went with a
-- service level 9.12 points lower and abandonment 2.5 points higher.
create table trusted.fct_contact_centre_volume_response_yearly as
select
    cast(year as integer) as year,
    cast(days as bigint) as days,
    calls_offered_mean,
    service_level,
    service_level_slope_per_1000_calls,
    calls_abandoned_pct_slope_per_1000_calls,
    service_level_volume_correlation
from (values
    (2023, 60, 103.02, 0.8, cast(null as double), cast(null as double), cast(null as double)),
    (2024, 59, 102.95, 0.8, -0.0912, 2.5, -0.4312)
) as t (
    year, days, calls_offered_mean, service_level, service_level_slope_per_1000_calls,
    calls_abandoned_pct_slope_per_1000_calls, service_level_volume_correlation
);
"""

PLANNING_TABLES = (
    "trusted.fct_contact_centre_weekday_profile",
    "trusted.fct_contact_centre_strain_days",
    "trusted.fct_contact_centre_volume_response_yearly",
)


WarehouseMaker = Callable[..., Path]


@pytest.fixture
def make_warehouse(tmp_path: Path) -> WarehouseMaker:
    """``make_warehouse(empty=False, planning=True)``: a lake folder whose warehouse has
    the marts (with no rows when ``empty``; without the planning marts, as a warehouse
    built before them, unless ``planning``); returns the lake folder."""

    def make(*, empty: bool = False, planning: bool = True) -> Path:
        lake = tmp_path / "lake"
        lake.mkdir(exist_ok=True)
        with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
            con.execute(_MARTS.replace("$reason$", "'" + _HOSTILE_REASON + "'"))
            if empty:
                for table in (
                    "trusted.fct_contact_centre_daily",
                    "trusted.fct_calls_handled_yearly",
                    "trusted.fct_calls_handled_monthly",
                    "curated.quarantine_daily_metrics",
                    "curated.conflicts_daily_metrics",
                    *PLANNING_TABLES,
                ):
                    con.execute(f"delete from {table}")
            if not planning:
                for table in PLANNING_TABLES:
                    con.execute(f"drop table {table}")
        return lake

    return make
