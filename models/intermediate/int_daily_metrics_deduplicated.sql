with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

extract_coverage as (

    select
        date,
        count(distinct source_file_sha256) as extracts_reporting_date
    from validated
    where date is not null
    group by date

),

latest_valid as (

    select *
    from validated
    where disposition = 'in_marts'

),

final as (

    select
        latest_valid.date,
        latest_valid.calls_offered,
        latest_valid.calls_handled,
        latest_valid.calls_abandoned,
        latest_valid.service_level,
        latest_valid.avg_speed_of_answer_seconds,
        extract_coverage.extracts_reporting_date,
        latest_valid.source_file_name,
        latest_valid.source_file_sha256,
        latest_valid.source_sheet,
        latest_valid.source_row_number,
        latest_valid.ingested_at
    from latest_valid
    inner join extract_coverage
        on latest_valid.date = extract_coverage.date

)

select * from final
