{#
    Each day's calls offered against what is usual for its weekday and season: the
    same weekday in the surrounding weeks (var strain_baseline_weeks either side, the
    day itself left out). The score is Iglewicz and Hoaglin's modified z-score
    0.6745 * (x - median) / MAD (see the strain_day_method docs block), robust to the
    very spikes it looks for, unlike a mean and standard deviation. Medians are exact
    (macro exact_median), so the score is the same on Athena and DuckDB.
#}
{%- set baseline_weeks = var('strain_baseline_weeks') | int -%}

with

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

days as (

    select
        date,
        {{ iso_weekday('date') }} as iso_weekday,
        -- Days since 1970-01-01: a join on a range of numbers (the baseline window)
        -- where date arithmetic differs between the engines.
        date_diff('day', date '1970-01-01', date) as day_number,
        calls_offered,
        service_level
    from daily

),

baseline_pairs as (

    -- Each day with its baseline days: the same weekday within the window, itself
    -- excluded. A day missing from the mart simply has one baseline day fewer.
    select
        days.date,
        baseline.calls_offered as baseline_calls_offered,
        baseline.service_level as baseline_day_service_level
    from days
    inner join days as baseline
        on
            days.iso_weekday = baseline.iso_weekday
            and baseline.day_number
            between days.day_number - {{ 7 * baseline_weeks }}
            and days.day_number + {{ 7 * baseline_weeks }}
            and days.day_number <> baseline.day_number

),

baseline_counts as (

    select
        date,
        count(*) as baseline_days
    from baseline_pairs
    group by date

),

baseline_medians as (

    {{ exact_median('baseline_pairs', ['date'], 'baseline_calls_offered', 'baseline_median') }}

),

baseline_deviations as (

    select
        baseline_pairs.date,
        abs(baseline_pairs.baseline_calls_offered - baseline_medians.baseline_median)
            as absolute_deviation
    from baseline_pairs
    inner join baseline_medians
        on baseline_pairs.date = baseline_medians.date

),

baseline_mads as (

    {{ exact_median('baseline_deviations', ['date'], 'absolute_deviation', 'baseline_mad') }}

),

baseline_service_levels as (

    {{ exact_median(
        'baseline_pairs', ['date'], 'baseline_day_service_level', 'baseline_service_level'
    ) }}

),

scored as (

    select
        days.date,
        days.iso_weekday,
        days.calls_offered,
        days.service_level,
        coalesce(baseline_counts.baseline_days, 0) as baseline_days,
        baseline_medians.baseline_median,
        baseline_mads.baseline_mad,
        baseline_service_levels.baseline_service_level,
        case
            when
                coalesce(baseline_counts.baseline_days, 0)
                >= {{ var('strain_min_baseline_days') | int }}
                and baseline_mads.baseline_mad > 0
                then round(
                    cast(0.6745 as double)
                    * (days.calls_offered - baseline_medians.baseline_median)
                    / baseline_mads.baseline_mad,
                    4
                )
        end as robust_z
    from days
    left join baseline_counts
        on days.date = baseline_counts.date
    left join baseline_medians
        on days.date = baseline_medians.date
    left join baseline_mads
        on days.date = baseline_mads.date
    left join baseline_service_levels
        on days.date = baseline_service_levels.date

),

final as (

    select
        date,
        iso_weekday,
        calls_offered,
        service_level,
        cast(baseline_days as bigint) as baseline_days,
        -- Medians of counts are whole or half numbers and a MAD of them a multiple of
        -- 1/4: the rounding changes nothing and keeps every double's digits fixed.
        round(baseline_median, 2) as baseline_median,
        round(baseline_mad, 2) as baseline_mad,
        round(baseline_service_level, 4) as baseline_service_level,
        robust_z,
        -- From the rounded score, so both engines classify a day the same way.
        coalesce(robust_z >= {{ var('strain_z_threshold') }}, false) as is_strain_day
    from scored

)

select * from final
