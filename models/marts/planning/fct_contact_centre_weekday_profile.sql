{#
    Typical calls offered per weekday of each month over a window of years (vars
    planning_first_year, planning_last_year; by default the latest year in the daily
    mart and the two before it), with its spread and the service that went with it.
    Ratios are ratios of sums (service level weighted by calls offered, as in the other
    marts); the median is exact (macro exact_median).
#}
{%- set first_year = var('planning_first_year') -%}
{%- set last_year = var('planning_last_year') -%}

with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

latest_year as (

    select max(year) as year
    from daily

),

requested_last_year as (

    select
        {{ last_year if last_year is not none else 'latest_year.year' }} as last_year
    from latest_year

),

year_window as (

    select
        {{ first_year if first_year is not none else 'requested_last_year.last_year - 2' }}
            as first_year,
        requested_last_year.last_year
    from requested_last_year

),

days_in_window as (

    select
        daily.date,
        daily.year,
        cast(extract(month from daily.date) as integer) as month_of_year,
        {{ iso_weekday('daily.date') }} as iso_weekday,
        daily.calls_offered,
        daily.calls_abandoned,
        daily.service_level
    from daily
    cross join year_window
    where daily.year between year_window.first_year and year_window.last_year

),

years_covered as (

    -- The years the profile actually covers (the window may reach beyond the data).
    select
        min(year) as first_year,
        max(year) as last_year
    from days_in_window

),

profile as (

    select
        month_of_year,
        iso_weekday,
        -- `days` is a keyword of some dialects, and the contract's column name.
        count(*) as days,  -- noqa: RF04
        round(avg(cast(calls_offered as double)), 2) as calls_offered_mean,
        round(stddev_samp(cast(calls_offered as double)), 2) as calls_offered_stddev,
        min(calls_offered) as calls_offered_min,
        max(calls_offered) as calls_offered_max,
        round(
            {{ divide(
                'sum(service_level * calls_offered)',
                'sum(case when service_level is not null then calls_offered end)'
            ) }},
            4
        ) as service_level,
        {{ percentage('sum(calls_abandoned)', 'sum(calls_offered)') }} as calls_abandoned_pct
    from days_in_window
    group by month_of_year, iso_weekday

),

medians as (

    {{ exact_median(
        'days_in_window', ['month_of_year', 'iso_weekday'], 'calls_offered', 'calls_offered_median'
    ) }}

),

final as (

    select
        profile.month_of_year,
        cast({{ month_name('profile.month_of_year') }} as varchar) as month_name,
        profile.iso_weekday,
        cast({{ weekday_name('profile.iso_weekday') }} as varchar) as weekday_name,
        years_covered.first_year,
        years_covered.last_year,
        cast(profile.days as bigint) as days,  -- noqa: RF04
        profile.calls_offered_mean,
        round(medians.calls_offered_median, 2) as calls_offered_median,
        profile.calls_offered_stddev,
        cast(profile.calls_offered_min as bigint) as calls_offered_min,
        cast(profile.calls_offered_max as bigint) as calls_offered_max,
        profile.service_level,
        profile.calls_abandoned_pct,
        {{ build_metadata() }}
    from profile
    inner join medians
        on
            profile.month_of_year = medians.month_of_year
            and profile.iso_weekday = medians.iso_weekday
    cross join years_covered

)

-- In calendar order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by month_of_year, iso_weekday
