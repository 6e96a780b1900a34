{#
    True when two values differ by more than `tolerance`, or exactly one is null.
    A tolerance absorbs rounding differences between extracts (4 vs 15 decimals).
#}
{% macro values_differ(left, right, tolerance=0) -%}
    (
        ({{ left }} is null) <> ({{ right }} is null)
        or abs({{ left }} - {{ right }}) > {{ tolerance }}
    )
{%- endmacro %}
