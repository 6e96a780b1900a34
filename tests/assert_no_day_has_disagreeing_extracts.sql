-- Days on which two extracts give figures that differ beyond rounding: one row per day,
-- extract used and extract not used (conflicts_daily_metrics), its `description` saying
-- which figures differ and which step of the precedence order decided (a superseding
-- extract, the later reach, the later load). Warns only: the marts take the figures of
-- the extract first in precedence order (int_extract_precedence); load a deliberate
-- correction with `dap load --supersede`, or retract the wrong extract (`dap retract`).
-- During `dbt build` and `dbt test` the first few are also printed above the warning, so
-- that the build's output names the days and both extracts, not only how many.
{{ config(severity='warn') }}

{%- set shown = 20 %}
{%- if execute and flags.WHICH in ['build', 'test'] %}
    {%- set conflicts_model = ref('conflicts_daily_metrics') %}
    {%- set relation = adapter.get_relation(
        database=conflicts_model.database,
        schema=conflicts_model.schema,
        identifier=conflicts_model.identifier,
    ) %}
    {%- if relation is not none %}
        {%- set found = run_query(
            'select description from ' ~ relation ~ ' order by date, description'
        ) %}
        {%- for row in found.rows[:shown] %}
            {%- do log('Extracts disagree: ' ~ row[0], info=true) %}
        {%- endfor %}
        {%- if found.rows | length > shown %}
            {%- do log(
                'Extracts disagree: and ' ~ (found.rows | length - shown)
                ~ ' more (select * from ' ~ relation ~ ')',
                info=true,
            ) %}
        {%- endif %}
    {%- endif %}
{%- endif %}

with

conflicts as (

    select * from {{ ref('conflicts_daily_metrics') }}

),

final as (

    select
        date,
        source_file_name as extract_used,
        superseded_source_file_name as extract_not_used,
        description
    from conflicts

)

select * from final
