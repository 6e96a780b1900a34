{#
    Floating-point division that means the same on every engine, null when the
    denominator is zero or null. Trino (Athena) truncates integer / integer
    (7 / 2 = 3) while DuckDB does not (3.5); casting both sides to double gives
    DuckDB's meaning everywhere.
#}
{% macro divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('divide', 'vancouver_311')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}
