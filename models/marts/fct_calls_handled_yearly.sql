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

select * from final
