-- One row per extract (workbook) in the raw zone: when it was loaded, how many of its rows
-- are there and how many it declares. An extract with fewer rows than it declares was
-- interrupted mid-load, or is being loaded right now (`is_complete` false).
with

daily_metrics as (

    select * from {{ ref('stg_contact_centre__daily_metrics') }}

),

extracts as (

    select
        source_file_sha256,
        min(source_file_name) as source_file_name,
        max(ingested_at) as ingested_at,
        count(*) as rows_landed,
        max(extract_rows) as rows_expected
    from daily_metrics
    group by source_file_sha256

),

final as (

    select
        *,
        -- Extracts landed before the loader recorded extract_rows count as complete.
        coalesce(rows_landed = rows_expected, true) as is_complete
    from extracts

)

select * from final
