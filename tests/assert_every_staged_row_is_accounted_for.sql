-- Nothing is lost or counted twice between staging and the marts: every merged day bound
-- for the marts is in the daily mart with the same figures, every day of the daily mart
-- is such a day, every quarantined row is in the quarantine, and so is every day held
-- back (incomplete, or breaking a rule of the merged day).
with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

merged as (

    select * from {{ ref('int_daily_metrics_merged') }}

),

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

quarantine as (

    select * from {{ ref('quarantine_daily_metrics') }}

),

bound_for_marts as (

    select
        date,
        source_file_sha256,
        calls_offered,
        calls_handled,
        calls_abandoned
    from merged
    where disposition = 'in_marts'

),

quarantined_rows as (

    select distinct
        source_file_sha256,
        source_sheet,
        source_row_number
    from quarantine

),

quarantined_days as (

    select distinct date
    from quarantine
    where rule_scope = 'day'

),

missing_from_marts as (

    select
        bound_for_marts.date,
        bound_for_marts.source_file_sha256,
        'bound for the marts but not in fct_contact_centre_daily as merged' as problem
    from bound_for_marts
    left join daily
        on
            bound_for_marts.date = daily.date
            and bound_for_marts.source_file_sha256 = daily.source_file_sha256
            and bound_for_marts.calls_offered = daily.calls_offered
            and bound_for_marts.calls_handled = daily.calls_handled
            and bound_for_marts.calls_abandoned = daily.calls_abandoned
    where daily.date is null

),

unexpected_in_marts as (

    select
        daily.date,
        daily.source_file_sha256,
        'in fct_contact_centre_daily but not bound for the marts' as problem
    from daily
    left join bound_for_marts
        on
            daily.date = bound_for_marts.date
            and daily.source_file_sha256 = bound_for_marts.source_file_sha256
    where bound_for_marts.date is null

),

missing_from_quarantine as (

    select
        validated.date,
        validated.source_file_sha256,
        'quarantined but not in quarantine_daily_metrics' as problem
    from validated
    left join quarantined_rows
        on
            validated.source_file_sha256 = quarantined_rows.source_file_sha256
            and validated.source_sheet = quarantined_rows.source_sheet
            and validated.source_row_number = quarantined_rows.source_row_number
    where
        validated.disposition = 'quarantined'
        and quarantined_rows.source_file_sha256 is null

),

held_back_not_in_quarantine as (

    select
        merged.date,
        merged.source_file_sha256,
        'day held back but not in quarantine_daily_metrics' as problem
    from merged
    left join quarantined_days
        on merged.date = quarantined_days.date
    where
        merged.disposition = 'held_back'
        and quarantined_days.date is null

),

final as (

    select * from missing_from_marts
    union all
    select * from unexpected_in_marts
    union all
    select * from missing_from_quarantine
    union all
    select * from held_back_not_in_quarantine

)

select * from final
