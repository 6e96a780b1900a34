{#
    Primary-key test for a key of several columns: fails with each combination that
    occurs more than once.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    {%- set columns = combination_of_columns | join(', ') %}

    with

    model_rows as (

        select {{ columns }} from {{ model }}

    ),

    duplicated as (

        select
            {{ columns }},
            count(*) as occurrences
        from model_rows
        group by {{ columns }}
        having count(*) > 1

    )

    select * from duplicated

{% endtest %}
