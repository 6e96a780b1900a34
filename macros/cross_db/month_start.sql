{#
    First day of the month of a date, as a date. Trino's date_trunc keeps the
    argument's type (date in, date out); DuckDB's returns a timestamp.
#}
{% macro month_start(date_expression) -%}
    {{ return(adapter.dispatch('month_start', 'vancouver_311')(date_expression)) }}
{%- endmacro %}

{% macro default__month_start(date_expression) -%}
    date_trunc('month', {{ date_expression }})
{%- endmacro %}

{% macro duckdb__month_start(date_expression) -%}
    cast(date_trunc('month', {{ date_expression }}) as date)
{%- endmacro %}
