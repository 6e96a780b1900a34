{#
    100 × numerator / denominator for non-negative counts, rounded half up to
    `decimals` places exactly: computed in integer arithmetic, because rounding a
    double goes the wrong way on ties (100 × 23 / 4000 = 0.575 is stored as
    0.57499…). Null when the denominator is zero.
#}
{% macro percentage(numerator, denominator, decimals=2) -%}
    {%- set scale = 10 ** decimals -%}
    cast({{ integer_divide(
        'cast(' ~ numerator ~ ' as bigint) * ' ~ (200 * scale)
        ~ ' + cast(' ~ denominator ~ ' as bigint)',
        '2 * nullif(cast(' ~ denominator ~ ' as bigint), 0)'
    ) }} as double) / {{ scale }}
{%- endmacro %}
