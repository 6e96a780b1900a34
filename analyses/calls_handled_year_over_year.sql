-- Year-over-year change in calls offered, calls handled and the calls-handled
-- percentage (in percentage points). Compile with `dbt compile --select
-- calls_handled_year_over_year` and run the SQL in target/compiled/, or preview with
-- `dbt show --select calls_handled_year_over_year`.
-- Years the data does not cover from 1 January to 31 December (the first and the
-- latest) are flagged as partial: compare them with care.
with

yearly as (

    select * from {{ ref('fct_calls_handled_yearly') }}

),

with_previous as (

    select
        year,
        calls_offered,
        calls_handled,
        calls_handled_pct,
        days_reported,
        first_reported_date,
        last_reported_date,
        lag(calls_offered) over (order by year) as previous_calls_offered,
        lag(calls_handled) over (order by year) as previous_calls_handled,
        lag(calls_handled_pct) over (order by year) as previous_calls_handled_pct
    from yearly

),

final as (

    select
        year,
        calls_offered,
        calls_handled,
        calls_handled_pct,
        days_reported,
        extract(month from first_reported_date) <> 1
        or extract(day from first_reported_date) <> 1
        or extract(month from last_reported_date) <> 12
        or extract(day from last_reported_date) <> 31 as is_partial_year,
        calls_offered - previous_calls_offered as calls_offered_change,
        round(
            100 * {{ divide('calls_offered - previous_calls_offered', 'previous_calls_offered') }},
            2
        ) as calls_offered_change_pct,
        calls_handled - previous_calls_handled as calls_handled_change,
        round(calls_handled_pct - previous_calls_handled_pct, 2) as calls_handled_pct_change_points
    from with_previous

)

select * from final
