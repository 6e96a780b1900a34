-- Days held back because some of their measures have landed and others have not (rule
-- day_incomplete): a `callsGeneral` extract without its `callsHandled`, or the other way
-- round, or the part that would complete the day was quarantined. One row per day, with
-- what it lacks. Warns only: the days enter the marts when the missing part lands.
{{ config(severity='warn') }}

with

merged as (

    select * from {{ ref('int_daily_metrics_merged') }}

),

final as (

    select
        date,
        measures_missing,
        source_file_name
    from merged
    where fails_day_incomplete

)

select * from final
