-- Every entry the quarantine holds for broken data, one per source row and broken rule
-- (days held back only as incomplete are left to assert_no_day_is_incomplete). It only
-- warns: a quarantined row is routed, not lost, and assert_few_days_held_back_by_quarantine
-- decides when the quarantine is too big. Its failure count is the number of quarantine
-- entries, which `dap metrics dbt` publishes as RowsQuarantined.
{{ config(severity='warn') }}

with

quarantine as (

    select * from {{ ref('quarantine_daily_metrics') }}

),

final as (

    select
        source_file_sha256,
        source_sheet,
        source_row_number,
        rule_code
    from quarantine
    where severity = 'quarantine'

)

select * from final
