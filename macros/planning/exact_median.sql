{#
    The exact median of `value_column` per group, as a select (one row per group that
    has a non-null value): the middle value of the group's values in order, or the mean
    of the two middle ones when there are evenly many. Portable SQL (row_number and count
    over the group), so it is the same on Athena and DuckDB, where Athena offers only
    approx_percentile: with n values ranked 1..n, the middle ranks are those with
    n <= 2 * rank <= n + 2 (rank (n + 1) / 2 when n is odd, n / 2 and n / 2 + 1 when it
    is even), which needs no integer division. Ties need no care: equal values are
    interchangeable in the order.
#}
{% macro exact_median(relation, group_columns, value_column, median_column) %}

    select
        {%- for column in group_columns %}
            {{ column }},
        {%- endfor %}
        avg(cast({{ value_column }} as double)) as {{ median_column }}
    from (
        select
            {%- for column in group_columns %}
                {{ column }},
            {%- endfor %}
            {{ value_column }},
            row_number() over (
                partition by {{ group_columns | join(', ') }} order by {{ value_column }}
            ) as value_rank,
            count(*) over (partition by {{ group_columns | join(', ') }}) as value_count
        from {{ relation }}
        where {{ value_column }} is not null
    ) as ranked
    where 2 * value_rank between value_count and value_count + 2
    group by {{ group_columns | join(', ') }}

{% endmacro %}
