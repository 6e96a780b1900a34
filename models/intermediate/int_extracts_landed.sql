-- One row per extract (workbook) in the raw zone: when it was loaded, how many of its rows
-- are there and how many it declares, which days it covers, and whether it is retracted.
-- An extract with fewer rows than it declares was interrupted mid-load, or is being loaded
-- right now (`is_complete` false). An extract whose latest retract or restore event is a
-- retraction (`dap retract`) is left out of every build (`is_retracted` true); nothing of
-- it is deleted, and `dap restore` brings it back.
with

daily_metrics as (

    select * from {{ ref('stg_contact_centre__daily_metrics') }}

),

extract_events as (

    select * from {{ ref('stg_contact_centre__extract_events') }}

),

extracts as (

    select
        source_file_sha256,
        min(source_file_name) as source_file_name,
        max(ingested_at) as ingested_at,
        count(*) as rows_landed,
        max(extract_rows) as rows_expected,
        min(date) as first_date,
        max(date) as last_date
    from daily_metrics
    group by source_file_sha256

),

retraction_events_ranked as (

    -- Retractions and restorations only; the latest one per extract decides.
    select
        source_file_sha256,
        event_type,
        recorded_at,
        row_number() over (
            partition by source_file_sha256
            order by recorded_at desc, event_id desc
        ) as recency_rank
    from extract_events
    where event_type in ('retracted', 'restored')

),

latest_retraction_events as (

    select
        source_file_sha256,
        event_type,
        recorded_at
    from retraction_events_ranked
    where recency_rank = 1

),

final as (

    select
        extracts.*,
        -- Extracts landed before the loader recorded extract_rows count as complete.
        coalesce(extracts.rows_landed = extracts.rows_expected, true) as is_complete,
        coalesce(latest_retraction_events.event_type = 'retracted', false) as is_retracted,
        latest_retraction_events.recorded_at as retracted_or_restored_at
    from extracts
    left join latest_retraction_events
        on extracts.source_file_sha256 = latest_retraction_events.source_file_sha256

)

select * from final
