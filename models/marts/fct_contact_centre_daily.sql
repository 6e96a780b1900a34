{#
    Incremental by year: a run recomputes only the years touched by extracts ingested
    after the last build's watermark, from every extract (the winner of a date can be any
    of them), and those years replace what the table held for them (macro
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

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

rows_in_marts as (

    -- For each date, the most recently ingested extract's row that breaks no hard rule.
    select *
    from validated
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

    -- One row per date: no call is counted twice, however many extracts report it.
    select
        rows_in_marts.date,
        rows_in_marts.calls_offered,
        rows_in_marts.calls_handled,
        rows_in_marts.calls_abandoned,
        rows_in_marts.service_level,
        rows_in_marts.avg_speed_of_answer_seconds,
        extract_coverage.extracts_reporting_date,
        rows_in_marts.source_file_name,
        rows_in_marts.source_file_sha256,
        rows_in_marts.ingested_at
    from rows_in_marts
    inner join extract_coverage
        on rows_in_marts.date = extract_coverage.date

),

oldest_still_landing as (

    select min(ingested_at) as ingested_at
    from extracts
    where not is_complete

),

watermark as (

    select max(extracts.ingested_at) as extracts_ingested_through
    from extracts
    cross join oldest_still_landing
    where
        extracts.is_complete
        and (
            oldest_still_landing.ingested_at is null
            or extracts.ingested_at < oldest_still_landing.ingested_at
        )

),

{% if is_incremental() %}

last_build as (

    select max(extracts_ingested_through) as extracts_ingested_through
    from {{ this }}

),

years_touched as (

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
