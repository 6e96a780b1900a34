{#
    MetricFlow's time spine (dbt's semantic layer needs one): every day from the first
    to the last date of the daily mart, gaps included. The days come from a cross join
    of digits (up to 100,000 days) rather than Trino's sequence() or DuckDB's range(),
    so the same SQL builds on Athena and DuckDB.
#}
with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

date_range as (

    select
        min(date) as first_date,
        date_diff('day', min(date), max(date)) as days_spanned
    from daily

),

digits as (

    {% for digit in range(10) -%}
        {% if not loop.first %}
            union all
        {% endif %}
        select {{ digit }} as digit
    {% endfor %}

),

day_offsets as (

    select
        units.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as units
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

final as (

    select {{ add_days('date_range.first_date', 'day_offsets.day_offset') }} as date_day
    from date_range
    inner join day_offsets
        on date_range.days_spanned >= day_offsets.day_offset

)

-- In date order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by date_day
