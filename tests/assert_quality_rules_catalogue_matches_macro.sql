-- Every hard rule in macros/quality/daily_metric_rules.sql is catalogued in the
-- quality_rules seed as a `quarantine` rule, and the seed lists no other.
{%- set rules = daily_metric_hard_rules() %}

with

catalogue as (

    select * from {{ ref('quality_rules') }}

),

implemented as (

    {%- for rule in rules %}
        select '{{ rule.code }}' as rule_code
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}

),

missing_from_catalogue as (

    select
        implemented.rule_code,
        'implemented but not catalogued as a quarantine rule' as problem
    from implemented
    left join catalogue
        on
            implemented.rule_code = catalogue.rule_code
            and catalogue.severity = 'quarantine'
    where catalogue.rule_code is null

),

missing_from_macro as (

    select
        catalogue.rule_code,
        'catalogued as a quarantine rule but not implemented' as problem
    from catalogue
    left join implemented
        on catalogue.rule_code = implemented.rule_code
    where catalogue.severity = 'quarantine' and implemented.rule_code is null

),

final as (

    select * from missing_from_catalogue
    union all
    select * from missing_from_macro

)

select * from final
