"""A small warehouse as `dbt build` leaves it, without running dbt: the marts and the
quarantine tables the summary and the report read, with the columns they read."""

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
"""


WarehouseMaker = Callable[..., Path]


@pytest.fixture
def make_warehouse(tmp_path: Path) -> WarehouseMaker:
    """``make_warehouse(empty=False)``: a lake folder whose warehouse has the marts (with
    no rows when ``empty``); returns the lake folder."""

    def make(*, empty: bool = False) -> Path:
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
                ):
                    con.execute(f"delete from {table}")
        return lake

    return make
