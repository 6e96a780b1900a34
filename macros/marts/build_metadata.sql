{#
    Which dbt invocation built a mart row, and when: every trusted mart ends its
    business columns with these two, so a reader can tell how fresh a figure is and
    find the run (its run_results.json, logs and CloudWatch metrics) that produced it.
    `built_at` is the invocation's start (UTC, milliseconds), the same instant for
    every model of one build. The SQL is the same on Athena and DuckDB.
#}
{% macro build_metadata() %}
    cast('{{ invocation_id }}' as varchar) as dbt_invocation_id,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] }}' as timestamp) as built_at
{%- endmacro %}
