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

precedence as (

    select * from {{ ref('int_extract_precedence') }}

),

valid_rows as (

    select *
    from validated
    where disposition = 'valid'

),

compared as (

    -- Each valid row against its merged day, on the measures the row carries: a measure
    -- the row supplied agrees with itself; one an extract before it in precedence order
    -- supplied may not.
    select
        {%- for column, tolerance in compared_columns %}
            merged.{{ column }},
            valid_rows.{{ column }} as superseded_{{ column }},
            merged.{{ column }}_source_file_sha256,
            coalesce(
                valid_rows.carries_{{ column }}
                and {{ values_differ('merged.' ~ column, 'valid_rows.' ~ column, tolerance) }},
                false
            ) as {{ column }}_differs,
        {%- endfor %}
        valid_rows.date,
        valid_rows.source_file_sha256 as superseded_source_file_sha256,
        valid_rows.source_sheet as superseded_source_sheet,
        valid_rows.source_row_number as superseded_source_row_number,
        valid_rows.source_file_name as superseded_source_file_name
    from valid_rows
    inner join merged
        on valid_rows.date = merged.date

),

differing_sources as (

    -- The extracts whose figures were used where the row's differ (one, most times).
    {%- for column, _ in compared_columns %}
        select
            superseded_source_file_sha256,
            superseded_source_sheet,
            superseded_source_row_number,
            {{ column }}_source_file_sha256 as source_file_sha256
        from compared
        where {{ column }}_differs
        {{ "union" if not loop.last }}
    {%- endfor %}

),

pairs as (

    -- One row per row not used and extract used instead, with the measures they differ on.
    select
        compared.*,
        differing_sources.source_file_sha256,
        nullif(concat_ws(
            ', ',
            {%- for column, _ in compared_columns %}
                case
                    when
                        compared.{{ column }}_differs
                        and compared.{{ column }}_source_file_sha256
                        = differing_sources.source_file_sha256
                        then '{{ column }}'
                end
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as differing_columns
    from compared
    inner join differing_sources
        on
            compared.superseded_source_file_sha256
            = differing_sources.superseded_source_file_sha256
            and compared.superseded_source_sheet = differing_sources.superseded_source_sheet
            and compared.superseded_source_row_number
            = differing_sources.superseded_source_row_number

),

with_precedence as (

    select
        pairs.*,
        used.source_file_name,
        used.ingested_at,
        used.reach_date,
        used.supersede_sequence,
        used.supersede_reason,
        not_used.ingested_at as superseded_ingested_at,
        not_used.reach_date as superseded_reach_date,
        not_used.supersede_sequence as superseded_supersede_sequence
    from pairs
    inner join precedence as used
        on pairs.source_file_sha256 = used.source_file_sha256
    inner join precedence as not_used
        on pairs.superseded_source_file_sha256 = not_used.source_file_sha256

),

decided as (

    -- Which step of the precedence order (int_extract_precedence) put the extract used
    -- before the one not used.
    select
        *,
        case
            when
                supersede_sequence
                > coalesce(superseded_supersede_sequence, 0)
                then 'superseding'
            when reach_date > superseded_reach_date then 'reaches_later'
            when ingested_at > superseded_ingested_at then 'ingested_later'
            else 'sha256_tie_break'
        end as decided_by
    from with_precedence

),

described as (

    select
        *,
        cast(date as varchar) || ': '
        || superseded_source_file_name || ' (sheet ' || superseded_source_sheet
        || ', row ' || cast(superseded_source_row_number as varchar)
        || ') disagrees on ' || differing_columns
        || '; the figures of ' || source_file_name || ' are used: '
        || case decided_by
            when 'superseding'
                then
                    'it was loaded as a deliberate correction (dap load --supersede'
                    || coalesce(', reason: ' || supersede_reason, '')
                    || case
                        when superseded_supersede_sequence is not null
                            then '), later than the other'
                        else ')'
                    end
            when 'reaches_later'
                then
                    'its data reaches a later date ('
                    || cast(reach_date as varchar) || ' against '
                    || cast(superseded_reach_date as varchar) || ')'
            when 'ingested_later'
                then
                    'both reach ' || cast(reach_date as varchar)
                    || ' and it was loaded later'
            else
                'both reach ' || cast(reach_date as varchar)
                || ' and were loaded at the same time (tie broken by sha256)'
        end as description
    from decided

),

final as (

    select
        date,
        description,
        differing_columns,
        source_file_name,
        superseded_source_file_name,
        decided_by,
        supersede_reason,
        calls_offered,
        superseded_calls_offered,
        calls_handled,
        superseded_calls_handled,
        calls_abandoned,
        superseded_calls_abandoned,
        service_level,
        superseded_service_level,
        avg_speed_of_answer_seconds,
        superseded_avg_speed_of_answer_seconds,
        source_file_sha256,
        ingested_at,
        reach_date,
        superseded_source_file_sha256,
        superseded_source_sheet,
        superseded_source_row_number,
        superseded_ingested_at,
        superseded_reach_date
    from described

)

select * from final
