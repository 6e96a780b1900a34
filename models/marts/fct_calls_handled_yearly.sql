with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

yearly as (

    {{ calls_handled_rollup('daily', ['year']) }}

),

final as (

    select
        yearly.*,
        {{ build_metadata() }}
    from yearly

)

-- In date order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by year
