{#
    The days whose calls offered were unusually high for their weekday and season
    (int_daily_volume_baselined.is_strain_day), with the service the centre gave on
    them beside the usual service level of their baseline days.
#}
with

baselined as (

    select * from {{ ref('int_daily_volume_baselined') }}

),

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

strain_days as (

    select
        baselined.date,
        baselined.iso_weekday,
        baselined.calls_offered,
        baselined.baseline_median,
        baselined.robust_z,
        baselined.baseline_service_level
    from baselined
    where baselined.is_strain_day

),

final as (

    select
        strain_days.date,
        daily.year,
        strain_days.iso_weekday,
        cast({{ weekday_name('strain_days.iso_weekday') }} as varchar) as weekday_name,
        strain_days.calls_offered,
        strain_days.baseline_median,
        strain_days.robust_z,
        daily.service_level,
        strain_days.baseline_service_level,
        daily.avg_speed_of_answer_seconds,
        daily.calls_abandoned_pct,
        {{ build_metadata() }}
    from strain_days
    inner join daily
        on strain_days.date = daily.date

)

-- In date order wherever the rows are shown (dbt show, a plain select on DuckDB).
select * from final
order by date
