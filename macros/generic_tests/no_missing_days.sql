{#
    Fails with one row per gap in a daily series: every run of calendar days
    between the column's first and last value that has no row. Each failing row
    gives the reported days on either side of the gap and how many days are missing.
#}
{% test no_missing_days(model, column_name) %}

    with

    reported_days as (

        select distinct {{ column_name }} as reported_day
        from {{ model }}
        where {{ column_name }} is not null

    ),

    with_next as (

        select
            reported_day,
            lead(reported_day) over (order by reported_day) as next_reported_day
        from reported_days

    ),

    gaps as (

        select
            reported_day as last_day_before_gap,
            next_reported_day as first_day_after_gap,
            {{ dbt.datediff('reported_day', 'next_reported_day', 'day') }} - 1 as missing_days
        from with_next
        where {{ dbt.datediff('reported_day', 'next_reported_day', 'day') }} > 1

    )

    select * from gaps

{% endtest %}
