-- Extracts of which only some partition files are in the raw zone: a load was killed
-- mid-way (the next `dap load` of the same workbook completes it) or is running right
-- now. They are kept out of everything downstream (int_daily_metrics_validated); this
-- warns so that a load that never completes is noticed.
{{ config(severity='warn') }}

with

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

final as (

    select
        source_file_sha256,
        source_file_name,
        ingested_at,
        rows_landed,
        rows_expected
    from extracts
    where not is_complete

)

select * from final
