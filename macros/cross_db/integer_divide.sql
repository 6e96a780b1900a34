{#
    Integer division that truncates toward zero on every engine. Trino (Athena)
    truncates bigint / bigint already; DuckDB's `/` returns a double, and its
    divide() (the function behind `//`) is integer division.
#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'vancouver_311')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    ({{ numerator }}) / ({{ denominator }})
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    divide({{ numerator }}, {{ denominator }})
{%- endmacro %}
