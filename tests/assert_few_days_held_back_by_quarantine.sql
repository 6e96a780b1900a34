-- Days that the quarantine keeps out of the marts altogether (no other extract has a
-- valid row for them), one row per day. A few warn; more than var
-- `max_days_held_back` fail the build, so a broken extract cannot silently empty a
-- month or a year of the trusted marts.
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
    where not is_date_in_marts
    group by date

)

select * from held_back_days
