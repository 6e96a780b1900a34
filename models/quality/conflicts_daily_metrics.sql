{#- Figures compared, with the difference below which two extracts agree: the City's
    exports round service level and speed of answer differently from year to year. #}
{%- set compared_columns = [
    ('calls_offered', 0),
    ('calls_handled', 0),
    ('calls_abandoned', 0),
    ('service_level', 0.00005),
    ('avg_speed_of_answer_seconds', 0.005),
] %}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

current_rows as (

    select *
    from validated
    where disposition = 'in_marts'

),

superseded_rows as (

    select *
    from validated
    where disposition = 'superseded'

),

compared as (

    select
        superseded_rows.date,
        current_rows.calls_offered,
        superseded_rows.calls_offered as superseded_calls_offered,
        current_rows.calls_handled,
        superseded_rows.calls_handled as superseded_calls_handled,
        current_rows.calls_abandoned,
        superseded_rows.calls_abandoned as superseded_calls_abandoned,
        current_rows.service_level,
        superseded_rows.service_level as superseded_service_level,
        current_rows.avg_speed_of_answer_seconds,
        superseded_rows.avg_speed_of_answer_seconds as superseded_avg_speed_of_answer_seconds,
        current_rows.source_file_name,
        current_rows.ingested_at,
        superseded_rows.source_file_name as superseded_source_file_name,
        superseded_rows.source_file_sha256 as superseded_source_file_sha256,
        superseded_rows.source_sheet as superseded_source_sheet,
        superseded_rows.source_row_number as superseded_source_row_number,
        superseded_rows.ingested_at as superseded_ingested_at,
        nullif(concat_ws(
            ', ',
            {%- for column, tolerance in compared_columns %}
                case
                    when {{ values_differ(
                        'current_rows.' ~ column, 'superseded_rows.' ~ column, tolerance
                    ) }}
                        then '{{ column }}'
                end
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as differing_columns
    from superseded_rows
    inner join current_rows
        on superseded_rows.date = current_rows.date

),

final as (

    select *
    from compared
    where differing_columns is not null

)

select * from final
