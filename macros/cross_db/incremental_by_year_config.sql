{#
    How an incremental model replaces whole years: the years a run recomputes take the
    place of what the table held for them, every other year is left as it is.
    DuckDB: delete+insert on the `year` column. Athena: insert_overwrite of the `year`
    partitions (Hive tables; the model must be partitioned_by year).
#}
{% macro incremental_by_year_config() %}
    {{ return(adapter.dispatch('incremental_by_year_config', 'vancouver_311')()) }}
{% endmacro %}

{% macro default__incremental_by_year_config() %}
    {{ return({'incremental_strategy': 'insert_overwrite'}) }}
{% endmacro %}

{% macro duckdb__incremental_by_year_config() %}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': 'year'}) }}
{% endmacro %}
