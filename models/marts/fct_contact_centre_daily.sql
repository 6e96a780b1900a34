{#
    Incremental by year: a run recomputes only the years touched by extracts ingested
    after the last build's watermark, from every extract (each measure of a date can come
    from any of them: a callsHandled extract landing completes days whose other measures
    came earlier), and those years replace what the table held for them (macro
    incremental_by_year_config). A re-issued year is recomputed whole; untouched years
    are left as they are. The watermark (`extracts_ingested_through`) is the newest
    extract the build read whole and older than any extract still landing, so an extract
    whose load was under way during a build is picked up by the next one. `dbt build
    --full-refresh` rebuilds every year and gives the same table
    (tests/python/integration/dbt/test_incremental.py).
#}
{{ config(materialized='incremental', on_schema_change='fail', **incremental_by_year_config()) }}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

merged as (

    select * from {{ ref('int_daily_metrics_merged') }}

),

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

days_in_marts as (

    -- One row per date, each measure from the first extract in precedence order that
    -- carries it with a valid row (int_daily_metrics_merged): no call is counted twice,
    -- however many extracts report the day. Days held back (incomplete, or breaking a
    -- rule of the merged day) are left out.
    select *
    from merged
    where disposition = 'in_marts'

),

extract_coverage as (

    select
        date,
        count(distinct source_file_sha256) as extracts_reporting_date
    from validated
    where date is not null
    group by date

),

daily_metrics as (

    select
        days_in_marts.date,
        days_in_marts.calls_offered,
        days_in_marts.calls_handled,
        days_in_marts.calls_abandoned,
        days_in_marts.service_level,
        days_in_marts.avg_speed_of_answer_seconds,
        extract_coverage.extracts_reporting_date,
        days_in_marts.source_file_name,
        days_in_marts.source_file_sha256,
        days_in_marts.ingested_at
    from days_in_marts
    inner join extract_coverage
        on days_in_marts.date = extract_coverage.date

),

oldest_still_landing as (

    select min(ingested_at) as ingested_at
    from extracts
    where not is_complete

),

extract_changes as (

    -- When each extract last changed what a build reads: it landed, or it was retracted
    -- or restored (dap retract, dap restore).
    select
        *,
        greatest(ingested_at, coalesce(retracted_or_restored_at, ingested_at)) as changed_at
    from extracts

),

watermark as (

    select max(extract_changes.changed_at) as extracts_ingested_through
    from extract_changes
    cross join oldest_still_landing
    where
        extract_changes.is_complete
        and (
            oldest_still_landing.ingested_at is null
            or extract_changes.changed_at < oldest_still_landing.ingested_at
        )

),

{% if is_incremental() %}

last_build as (

    select max(extracts_ingested_through) as extracts_ingested_through
    from {{ this }}

),

years_ingested as (

    select distinct {{ year_of('validated.date') }} as year
    from validated
    cross join last_build
    where
        validated.date is not null
        and (
            last_build.extracts_ingested_through is null
            or validated.ingested_at > last_build.extracts_ingested_through
        )

),

years_retracted_or_restored as (

    -- An extract retracted or restored since the last build: the years of the days it
    -- covers gain or lose its rows. (A year no other extract reports keeps its days
    -- until a full refresh: `dap retract` warns of it.)
    select distinct {{ year_of('validated.date') }} as year
    from validated
    inner join extracts
        on validated.date between extracts.first_date and extracts.last_date
    cross join last_build
    where extracts.retracted_or_restored_at > last_build.extracts_ingested_through

),

years_touched as (

    select year from years_ingested
    union
    select year from years_retracted_or_restored

),

{% endif %}

final as (

    select
        date,
        {{ month_start('date') }} as month_start_date,
        calls_offered,
        calls_handled,
        calls_abandoned,
        calls_offered - calls_handled - calls_abandoned
            as calls_neither_handled_nor_abandoned,
        {{ percentage('calls_handled', 'calls_offered') }} as calls_handled_pct,
        {{ percentage('calls_abandoned', 'calls_offered') }} as calls_abandoned_pct,
        service_level,
        avg_speed_of_answer_seconds,
        calls_handled + calls_abandoned > calls_offered as is_over_accounted,
        extracts_reporting_date,
        source_file_name,
        source_file_sha256,
        ingested_at,
        (select watermark.extracts_ingested_through from watermark)
            as extracts_ingested_through,
        {{ build_metadata() }},
        -- Last: on Athena the table is partitioned by year, and Hive partition
        -- columns must come last.
        {{ year_of('date') }} as year
    from daily_metrics
    {% if is_incremental() %}
        where {{ year_of('date') }} in (select years_touched.year from years_touched)
    {% endif %}

)

select * from final
