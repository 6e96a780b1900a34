with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

monthly as (

    {{ calls_handled_rollup('daily', ['month_start_date', 'year']) }}

),

final as (

    select
        monthly.*,
        {{ build_metadata() }}
    from monthly

)

-- In date order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by month_start_date
