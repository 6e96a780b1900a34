-- One row per extract (workbook) in the raw zone: when it was loaded, how many of its rows
-- are there and how many it declares, which days it covers, and whether it is retracted.
-- An extract with fewer rows than it declares was interrupted mid-load, or is being loaded
-- right now (`is_complete` false). An extract whose latest retract or restore event is a
-- retraction (`dap retract`) is left out of every build (`is_retracted` true); nothing of
-- it is deleted, and `dap restore` brings it back. An extract loaded with `dap load
-- --supersede` (a deliberate correction) has `supersede_sequence`: its rows win over every
-- other extract's for the dates and measures it carries (int_extract_precedence), a later
-- supersede over an earlier one. Retract and restore do not change it.
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

supersede_events_ranked as (

    -- `dap load --supersede`: the latest one per extract counts.
    select
        source_file_sha256,
        recorded_at,
        file_number,
        event_id,
        reason,
        row_number() over (
            partition by source_file_sha256
            order by recorded_at desc, file_number desc, event_id desc
        ) as recency_rank
    from extract_events
    where event_type = 'superseded'

),

latest_supersede_events as (

    -- In the order they were recorded (one load's files in the order given): the
    -- higher the sequence, the later the correction, and the later one wins.
    select
        source_file_sha256,
        recorded_at,
        reason,
        row_number() over (order by recorded_at, file_number, event_id) as supersede_sequence
    from supersede_events_ranked
    where recency_rank = 1

),

final as (

    select
        extracts.*,
        -- Extracts landed before the loader recorded extract_rows count as complete.
        coalesce(extracts.rows_landed = extracts.rows_expected, true) as is_complete,
        coalesce(latest_retraction_events.event_type = 'retracted', false) as is_retracted,
        -- When a retraction, restoration or supersede last changed what builds read of it
        -- (fct_contact_centre_daily recomputes the years it covers after that).
        case
            when latest_supersede_events.recorded_at is null
                then latest_retraction_events.recorded_at
            when latest_retraction_events.recorded_at is null
                then latest_supersede_events.recorded_at
            else greatest(
                latest_retraction_events.recorded_at, latest_supersede_events.recorded_at
            )
        end as retracted_or_restored_at,
        latest_supersede_events.supersede_sequence,
        latest_supersede_events.recorded_at as superseded_at,
        latest_supersede_events.reason as supersede_reason
    from extracts
    left join latest_retraction_events
        on extracts.source_file_sha256 = latest_retraction_events.source_file_sha256
    left join latest_supersede_events
        on extracts.source_file_sha256 = latest_supersede_events.source_file_sha256

)

select * from final
