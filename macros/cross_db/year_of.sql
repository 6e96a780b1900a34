{#
    Calendar year of a date as a 32-bit integer. extract() returns bigint on both
    engines; the marts' contracts promise `integer`.
#}
{% macro year_of(date_expression) -%}
    {{ return(adapter.dispatch('year_of', 'vancouver_311')(date_expression)) }}
{%- endmacro %}

{% macro default__year_of(date_expression) -%}
    cast(extract(year from {{ date_expression }}) as integer)
{%- endmacro %}
