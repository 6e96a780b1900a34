-- Nothing is lost or counted twice between staging and the marts: every row bound for
-- the marts is in the daily mart, every day of the daily mart comes from such a row,
-- and every quarantined row is in the quarantine.
with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

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
        source_file_sha256
    from validated
    where disposition = 'in_marts'

),

quarantined_rows as (

    select distinct
        source_file_sha256,
        source_sheet,
        source_row_number
    from quarantine

),

missing_from_marts as (

    select
        bound_for_marts.date,
        bound_for_marts.source_file_sha256,
        'bound for the marts but not in fct_contact_centre_daily' as problem
    from bound_for_marts
    left join daily
        on
            bound_for_marts.date = daily.date
            and bound_for_marts.source_file_sha256 = daily.source_file_sha256
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

final as (

    select * from missing_from_marts
    union all
    select * from unexpected_in_marts
    union all
    select * from missing_from_quarantine

)

select * from final
