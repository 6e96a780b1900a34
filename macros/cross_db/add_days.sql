{#
    A date plus a whole number of days, as a date. Trino (Athena) has
    date_add('day', n, date); DuckDB's date_add takes an interval, and adding an
    interval to a date gives a timestamp there, so it is cast back to a date.
#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'vancouver_311')(date_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days) -%}
    date_add('day', {{ days }}, {{ date_expression }})
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days) -%}
    cast({{ date_expression }} + to_days(cast({{ days }} as integer)) as date)
{%- endmacro %}
