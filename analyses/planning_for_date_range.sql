-- What a planner asks of a period: per weekday, how many calls came, what service the
-- centre gave, and how many days were strain days (far busier than usual for their
-- weekday and season, see fct_contact_centre_strain_days), between vars from_date and
-- to_date (inclusive; by default the latest year in the data, up to its last day):
--   dbt show --select planning_for_date_range \
--     --vars '{from_date: "2024-01-01", to_date: "2024-03-31"}'
-- or `dbt compile` the same way and run the SQL in target/compiled/ on Athena.
-- The last row (weekday_name 'All days', iso_weekday 8) is the whole range.
{%- set from_date = var('from_date', none) -%}
{%- set to_date = var('to_date', none) %}

with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

strain_days as (

    select * from {{ ref('fct_contact_centre_strain_days') }}

),

latest_year as (

    -- One row: the bounds of the latest year in the data, the default range.
    select
        min(date) as first_date,
        max(date) as last_date
    from daily
    where year = (select max(daily_years.year) from daily as daily_years)

),

date_range as (

    select
        {{ "date '" ~ from_date ~ "'" if from_date is not none else 'first_date' }}
            as from_date,
        {{ "date '" ~ to_date ~ "'" if to_date is not none else 'last_date' }} as to_date
    from latest_year

),

days_in_range as (

    select
        daily.date,
        {{ iso_weekday('daily.date') }} as iso_weekday,
        daily.calls_offered,
        daily.calls_abandoned,
        daily.service_level,
        strain_days.date is not null as is_strain_day
    from daily
    cross join date_range
    left join strain_days
        on daily.date = strain_days.date
    where daily.date between date_range.from_date and date_range.to_date

),

per_weekday as (

    select
        iso_weekday,
        count(*) as days_reported,
        sum(calls_offered) as calls_offered,
        sum(calls_abandoned) as calls_abandoned,
        sum(service_level * calls_offered) as service_level_weighted,
        sum(case when service_level is not null then calls_offered end)
            as calls_offered_with_service_level,
        sum(case when is_strain_day then 1 else 0 end) as strain_days
    from days_in_range
    group by iso_weekday

),

whole_range as (

    select
        8 as iso_weekday,
        sum(days_reported) as days_reported,
        sum(calls_offered) as calls_offered,
        sum(calls_abandoned) as calls_abandoned,
        sum(service_level_weighted) as service_level_weighted,
        sum(calls_offered_with_service_level) as calls_offered_with_service_level,
        sum(strain_days) as strain_days
    from per_weekday

),

final as (

    select
        date_range.from_date,
        date_range.to_date,
        summary_rows.iso_weekday,
        coalesce({{ weekday_name('summary_rows.iso_weekday') }}, 'All days') as weekday_name,
        cast(summary_rows.days_reported as bigint) as days_reported,
        cast(summary_rows.calls_offered as bigint) as calls_offered,
        round(
            {{ divide('summary_rows.calls_offered', 'summary_rows.days_reported') }}, 1
        ) as calls_offered_per_day,
        round(
            {{ divide(
                'summary_rows.service_level_weighted',
                'summary_rows.calls_offered_with_service_level'
            ) }},
            4
        ) as service_level,
        {{ percentage('summary_rows.calls_abandoned', 'summary_rows.calls_offered') }}
            as calls_abandoned_pct,
        cast(summary_rows.strain_days as bigint) as strain_days
    from (
        select * from per_weekday
        union all
        select * from whole_range
    ) as summary_rows
    cross join date_range

)

select * from final
order by iso_weekday
