-- No call is counted twice or lost between the marts: every year's and every
-- month's totals equal the sums of the trusted daily rows they cover.
with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

monthly as (

    select * from {{ ref('fct_calls_handled_monthly') }}

),

yearly as (

    select * from {{ ref('fct_calls_handled_yearly') }}

),

daily_by_year as (

    select
        year,
        sum(calls_offered) as calls_offered,
        sum(calls_handled) as calls_handled,
        count(*) as days_reported
    from daily
    group by year

),

monthly_by_year as (

    select
        year,
        sum(calls_offered) as calls_offered,
        sum(calls_handled) as calls_handled,
        sum(days_reported) as days_reported
    from monthly
    group by year

),

mismatches as (

    select
        coalesce(yearly.year, daily_by_year.year, monthly_by_year.year) as year,
        yearly.calls_offered as yearly_calls_offered,
        daily_by_year.calls_offered as daily_calls_offered,
        monthly_by_year.calls_offered as monthly_calls_offered
    from yearly
    full outer join daily_by_year
        on yearly.year = daily_by_year.year
    full outer join monthly_by_year
        on coalesce(yearly.year, daily_by_year.year) = monthly_by_year.year
    where
        yearly.calls_offered is distinct from daily_by_year.calls_offered
        or yearly.calls_handled is distinct from daily_by_year.calls_handled
        or yearly.days_reported is distinct from daily_by_year.days_reported
        or monthly_by_year.calls_offered is distinct from daily_by_year.calls_offered
        or monthly_by_year.calls_handled is distinct from daily_by_year.calls_handled
        or monthly_by_year.days_reported is distinct from daily_by_year.days_reported

)

select * from mismatches
