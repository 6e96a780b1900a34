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

select * from final
