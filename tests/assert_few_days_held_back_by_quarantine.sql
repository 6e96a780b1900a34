-- Days that the quarantine keeps out of the marts altogether (no valid figures from
-- other extracts make a day that passes every rule), one row per day. A few warn; more
-- than var `max_days_held_back` fail the build, so a broken extract cannot silently
-- empty a month or a year of the trusted marts. Days held back only because they are
-- incomplete (rule severity `hold`: the rest of the day has not landed yet) are not
-- counted here; assert_no_day_is_incomplete warns about them.
{{ config(warn_if='>0', error_if='>' ~ var('max_days_held_back')) }}

with

quarantine as (

    select * from {{ ref('quarantine_daily_metrics') }}

),

held_back_days as (

    select
        date,
        min(failed_rules) as failed_rules,
        count(distinct source_file_sha256) as extracts
    from quarantine
    where
        not is_date_in_marts
        and severity = 'quarantine'
    group by date

)

select * from held_back_days
