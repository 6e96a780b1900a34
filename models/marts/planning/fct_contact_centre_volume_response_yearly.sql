{#
    Per year, how service level and abandonment moved with the day's volume: the
    least-squares slope of each on calls offered (per 1,000 more calls a day) and the
    correlation of service level with volume, over the days that have both. A slope or
    a correlation needs var planning_min_days_for_slope days and some spread in both
    variables; otherwise it is null rather than a figure from too little or no variation.
#}
{%- set min_days = var('planning_min_days_for_slope') | int -%}

with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

days_with_service as (

    -- Every figure of a year comes from the same days: those with a service level and
    -- an abandonment rate (calls offered above zero).
    select
        year,
        calls_offered,
        cast(calls_offered as double) as calls_offered_double,
        service_level,
        calls_abandoned_pct
    from daily
    where service_level is not null and calls_abandoned_pct is not null

),

yearly as (

    select
        year,
        -- `days` is a keyword of some dialects, and the contract's column name.
        count(*) as days,  -- noqa: RF04
        avg(calls_offered_double) as calls_offered_mean,
        {{ divide('sum(service_level * calls_offered)', 'sum(calls_offered)') }}
            as service_level,
        regr_slope(service_level, calls_offered_double) as service_level_slope,
        regr_slope(calls_abandoned_pct, calls_offered_double) as calls_abandoned_pct_slope,
        corr(service_level, calls_offered_double) as service_level_volume_correlation,
        -- Exact tests for "no spread" (a variance computed in floating point need not
        -- come out exactly 0).
        min(calls_offered) < max(calls_offered) as volume_varies,
        min(service_level) < max(service_level) as service_level_varies
    from days_with_service
    group by year

),

final as (

    select
        year,
        cast(days as bigint) as days,  -- noqa: RF04
        round(calls_offered_mean, 2) as calls_offered_mean,
        round(service_level, 4) as service_level,
        case
            when days >= {{ min_days }} and volume_varies
                then round(1000 * service_level_slope, 4)
        end as service_level_slope_per_1000_calls,
        case
            when days >= {{ min_days }} and volume_varies
                then round(1000 * calls_abandoned_pct_slope, 4)
        end as calls_abandoned_pct_slope_per_1000_calls,
        case
            when days >= {{ min_days }} and volume_varies and service_level_varies
                then round(service_level_volume_correlation, 4)
        end as service_level_volume_correlation,
        {{ build_metadata() }}
    from yearly

)

-- In year order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by year
