{#
    Zone schemas are used verbatim: `curated` and `trusted` (DuckDB schemas locally,
    Glue databases on Athena), not dbt's default `<target schema>_<custom schema>`.
    Set the `schema_prefix` var to keep a developer's builds apart on a shared catalog,
    e.g. --vars '{schema_prefix: dev_alice}' builds dev_alice_curated and dev_alice_trusted.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('schema_prefix', '') -%}
    {%- set base = custom_schema_name | trim if custom_schema_name else target.schema -%}
    {{ (prefix ~ '_' ~ base) if prefix else base }}
{%- endmacro %}
