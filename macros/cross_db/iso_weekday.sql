{#
    ISO day of the week of a date as an integer, 1 = Monday to 7 = Sunday. Trino
    (Athena) has day_of_week() with this meaning; DuckDB's dayofweek() counts 0 = Sunday
    to 6, and its isodow() is the ISO day.
#}
{% macro iso_weekday(date_expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'vancouver_311')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    cast(day_of_week({{ date_expression }}) as integer)
{%- endmacro %}

{% macro duckdb__iso_weekday(date_expression) -%}
    cast(isodow({{ date_expression }}) as integer)
{%- endmacro %}
