{#
    Fails with every row whose column lies outside [min_value, max_value] (bounds
    optional; `inclusive: false` excludes them). Nulls are left to not_null.
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

    {%- set lower = '>=' if inclusive else '>' %}
    {%- set upper = '<=' if inclusive else '<' %}

    with

    model_rows as (

        select {{ column_name }} as tested_value from {{ model }}

    ),

    outside as (

        select tested_value
        from model_rows
        where
            tested_value is not null
            and not (
                1 = 1
                {%- if min_value is not none %}
                    and tested_value {{ lower }} {{ min_value }}
                {%- endif %}
                {%- if max_value is not none %}
                    and tested_value {{ upper }} {{ max_value }}
                {%- endif %}
            )

    )

    select * from outside

{% endtest %}
