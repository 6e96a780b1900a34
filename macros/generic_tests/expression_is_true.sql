{#
    Fails with every row for which the boolean SQL expression is not true.
#}
{% test expression_is_true(model, expression) %}

    with

    model_rows as (

        select * from {{ model }}

    ),

    failing as (

        select *
        from model_rows
        where not coalesce({{ expression }}, false)

    )

    select * from failing

{% endtest %}
