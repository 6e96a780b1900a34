{#
    Today's date in UTC. DuckDB's current_date follows the session time zone and
    Athena's follows the query's; both are pinned to UTC here.
#}
{% macro current_date_utc() -%}
    {{ return(adapter.dispatch('current_date_utc', 'vancouver_311')()) }}
{%- endmacro %}

{% macro default__current_date_utc() -%}
    cast(current_timestamp at time zone 'UTC' as date)
{%- endmacro %}

{% macro duckdb__current_date_utc() -%}
    cast(timezone('UTC', current_timestamp) as date)
{%- endmacro %}
