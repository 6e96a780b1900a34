{#
    English names of months and ISO weekdays, spelled out in SQL: Trino's date_format
    and DuckDB's strftime/monthname differ in name and in locale handling, and a case
    expression means the same on both.
#}
{% macro month_name(month_expression) -%}
    {%- set names = ['January', 'February', 'March', 'April', 'May', 'June', 'July',
                     'August', 'September', 'October', 'November', 'December'] -%}
    case {{ month_expression }}
        {%- for name in names %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro weekday_name(iso_weekday_expression) -%}
    {%- set names = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday',
                     'Sunday'] -%}
    case {{ iso_weekday_expression }}
        {%- for name in names %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
{%- endmacro %}
