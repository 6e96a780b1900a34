{#- The catalogue of data-quality rules, as macros/quality/daily_metric_rules.sql defines
    them: the same list gives the conditions int_daily_metrics_validated (source rows) and
    int_daily_metrics_merged (merged days) apply. #}
{%- set rules = daily_metric_rules() %}

with

rules as (

    {%- for rule in rules %}
        select
            cast('{{ rule.code }}' as varchar) as rule_code,
            cast('{{ rule.severity }}' as varchar) as severity,
            cast('{{ rule.scope }}' as varchar) as rule_scope,
            cast('{{ rule.description | replace("'", "''") }}' as varchar) as description
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select * from rules

)

select * from final
