{#
    The two steps every rule check takes, written once for the source-row checks
    (int_daily_metrics_validated) and the merged-day checks (int_daily_metrics_merged):
    one boolean column per rule, true when the row fails it (a condition that is null
    counts as passing), and whether any of them failed.
#}
{% macro rule_failure_flags(rules) -%}
    {%- for rule in rules %}
        coalesce({{ rule.fails_when }}, false) as fails_{{ rule.code }},
    {%- endfor %}
{%- endmacro %}

{% macro any_rule_fails(rules) -%}
    (
        {%- for rule in rules %}
            fails_{{ rule.code }} {{- " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
