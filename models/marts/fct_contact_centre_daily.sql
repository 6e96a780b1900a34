with

daily_metrics as (

    select * from {{ ref('int_daily_metrics_deduplicated') }}

),

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
        {{ build_metadata() }},
        -- Last: on Athena the table is partitioned by year, and Hive partition
        -- columns must come last.
        {{ year_of('date') }} as year
    from daily_metrics

)

select * from final
