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

merged as (

    select * from {{ ref('int_daily_metrics_merged') }}

),

valid_rows as (

    select *
    from validated
    where disposition = 'valid'

),

compared as (

    -- Each valid row against its merged day, on the measures the row carries: a measure
    -- the row supplied agrees with itself; one a more recent extract supplied may not.
    select
        valid_rows.date,
        merged.calls_offered,
        valid_rows.calls_offered as superseded_calls_offered,
        merged.calls_handled,
        valid_rows.calls_handled as superseded_calls_handled,
        merged.calls_abandoned,
        valid_rows.calls_abandoned as superseded_calls_abandoned,
        merged.service_level,
        valid_rows.service_level as superseded_service_level,
        merged.avg_speed_of_answer_seconds,
        valid_rows.avg_speed_of_answer_seconds as superseded_avg_speed_of_answer_seconds,
        merged.source_file_name,
        merged.ingested_at,
        valid_rows.source_file_name as superseded_source_file_name,
        valid_rows.source_file_sha256 as superseded_source_file_sha256,
        valid_rows.source_sheet as superseded_source_sheet,
        valid_rows.source_row_number as superseded_source_row_number,
        valid_rows.ingested_at as superseded_ingested_at,
        nullif(concat_ws(
            ', ',
            {%- for column, tolerance in compared_columns %}
                case
                    when
                        valid_rows.carries_{{ column }}
                        and {{ values_differ(
                            'merged.' ~ column, 'valid_rows.' ~ column, tolerance
                        ) }}
                        then '{{ column }}'
                end
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as differing_columns
    from valid_rows
    inner join merged
        on valid_rows.date = merged.date

),

final as (

    select *
    from compared
    where differing_columns is not null

)

select * from final
