{#
    The period measures of fct_calls_handled_yearly and fct_calls_handled_monthly,
    defined once. Every ratio is a ratio of sums over the period's days, never an
    average of daily ratios:
      calls_handled_pct           = 100 * sum(handled) / sum(offered), 2 decimals (exact)
      service_level               = sum(service_level * offered) / sum(offered), 4 decimals
      avg_speed_of_answer_seconds = sum(speed * handled) / sum(handled), 2 decimals
    (speed of answer is total wait / calls handled, so weighting by handled gives
    the period's total wait / its calls handled). A day may lack service level or speed of
    answer (no extract gives it; rule service_measure_not_reported): each weighted measure
    sums over the days that have it only, so such a day neither counts as 0 nor dilutes
    the period's value. Sums are cast to bigint because DuckDB widens sum(bigint) to
    hugeint where Trino keeps bigint.
#}
{% macro calls_handled_rollup(daily_relation, period_columns) %}

    select
        {%- for column in period_columns %}
            {{ column }},
        {%- endfor %}
        cast(sum(calls_offered) as bigint) as calls_offered,
        cast(sum(calls_handled) as bigint) as calls_handled,
        cast(sum(calls_abandoned) as bigint) as calls_abandoned,
        {{ percentage('sum(calls_handled)', 'sum(calls_offered)') }} as calls_handled_pct,
        round(
            {{ divide(
                'sum(service_level * calls_offered)',
                'sum(case when service_level is not null then calls_offered end)'
            ) }},
            4
        ) as service_level,
        round(
            {{ divide(
                'sum(avg_speed_of_answer_seconds * calls_handled)',
                'sum(case when avg_speed_of_answer_seconds is not null then calls_handled end)'
            ) }},
            2
        ) as avg_speed_of_answer_seconds,
        cast(count(*) as bigint) as days_reported,
        min(date) as first_reported_date,
        max(date) as last_reported_date
    from {{ daily_relation }}
    group by {{ period_columns | join(', ') }}

{% endmacro %}
