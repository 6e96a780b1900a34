-- Only extracts whose load completed (int_extracts_landed): an extract with fewer rows
-- than it declares is left out until a load completes it, so no reader downstream sees
-- half of an extract.
with

daily_metrics as (

    select * from {{ ref('stg_contact_centre__daily_metrics') }}

),

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

final as (

    select
        daily_metrics.source_file_sha256,
        daily_metrics.source_sheet,
        daily_metrics.source_row_number,
        daily_metrics.source_file_name,
        daily_metrics.ingested_at,
        daily_metrics.export_row_number,
        daily_metrics.date,
        daily_metrics.calls_offered,
        daily_metrics.calls_handled,
        daily_metrics.calls_abandoned,
        daily_metrics.avg_speed_of_answer_seconds,
        daily_metrics.service_level,
        daily_metrics.load_issues
    from daily_metrics
    inner join extracts
        on daily_metrics.source_file_sha256 = extracts.source_file_sha256
    where extracts.is_complete

)

select * from final
