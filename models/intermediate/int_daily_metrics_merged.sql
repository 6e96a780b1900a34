{#
    Each day's figures, merged measure by measure from every valid row of every
    completely landed extract: for each date and measure, the row of the first extract in
    precedence order (int_extract_precedence: a superseding extract, then the one whose
    valid rows reach the later date, then the more recently ingested, then the larger
    sha256) that carries the measure (ties within an extract: first sheet, then first
    row). So an archived extract loaded after a newer one never replaces its figures
    unless loaded with `dap load --supersede`, a `callsGeneral` workbook (offered, abandoned, service level, speed of
    answer) and a `callsHandled` workbook give the same day as one workbook with every
    column, and a re-issued `callsHandled` replaces handled calls only. The day-level rules
    of macros/quality/daily_metric_rules.sql (scope `day`) are applied to the merged day.
#}
{%- set measures = daily_metric_measures() %}
{%- set rules = daily_metric_hard_rules('day') %}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

precedence as (

    select * from {{ ref('int_extract_precedence') }}

),

valid_rows as (

    select *
    from validated
    where disposition = 'valid'

),

valid_rows_with_precedence as (

    select
        valid_rows.*,
        precedence.precedence_rank
    from valid_rows
    inner join precedence
        on valid_rows.source_file_sha256 = precedence.source_file_sha256

),

precedence_ranked as (

    -- For each date and measure, the rows that carry it, the first extract in precedence
    -- order first; null where the row does not carry the measure.
    select
        {%- for measure in measures %}
            case
                when carries_{{ measure.name }}
                    then row_number() over (
                        partition by date, carries_{{ measure.name }}
                        order by
                            precedence_rank asc,
                            source_sheet asc,
                            source_row_number asc
                    )
            end as {{ measure.name }}_precedence,
        {%- endfor %}
        *
    from valid_rows_with_precedence

),

measures_chosen as (

    -- One row per date: each measure's value and the source row it came from.
    select
        {%- for measure in measures %}
            {%- set chosen = measure.name ~ '_precedence = 1' %}
            max(case when {{ chosen }} then {{ measure.name }} end) as {{ measure.name }},
            max(case when {{ chosen }} then source_file_sha256 end)
                as {{ measure.name }}_source_file_sha256,
            max(case when {{ chosen }} then source_file_name end)
                as {{ measure.name }}_source_file_name,
            max(case when {{ chosen }} then source_sheet end)
                as {{ measure.name }}_source_sheet,
            max(case when {{ chosen }} then source_row_number end)
                as {{ measure.name }}_source_row_number,
        {%- endfor %}
        date
    from precedence_ranked
    group by date

),

sources_ranked as (

    -- The extracts that supply some measure of the day, the first in precedence order
    -- first.
    select
        date,
        source_file_sha256,
        source_file_name,
        ingested_at,
        row_number() over (
            partition by date
            order by precedence_rank asc, source_sheet asc, source_row_number asc
        ) as precedence_order
    from precedence_ranked
    where
        1 in (
            {%- for measure in measures %}
                {{ measure.name }}_precedence {{- "," if not loop.last }}
            {%- endfor %}
        )

),

first_source as (

    select
        date,
        source_file_sha256,
        source_file_name,
        ingested_at
    from sources_ranked
    where precedence_order = 1

),

merged as (

    select
        measures_chosen.*,
        first_source.source_file_sha256,
        first_source.source_file_name,
        first_source.ingested_at
    from measures_chosen
    inner join first_source
        on measures_chosen.date = first_source.date

),

rule_checks as (

    select
        {{- rule_failure_flags(rules) }}
        *
    from merged

),

hold_flagged as (

    select
        *,
        {{ any_rule_fails(rules) }} as is_held_back
    from rule_checks

),

final as (

    select
        date,
        {%- for measure in measures %}
            {{ measure.name }},
        {%- endfor %}
        {%- for measure in measures %}
            {{ measure.name }}_source_file_sha256,
            {{ measure.name }}_source_file_name,
            {{ measure.name }}_source_sheet,
            {{ measure.name }}_source_row_number,
        {%- endfor %}
        source_file_sha256,
        source_file_name,
        ingested_at,
        nullif(concat_ws(
            ', ',
            {%- for measure in measures %}
                case when {{ measure.name }} is null then '{{ measure.name }}' end
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as measures_missing,
        {%- for rule in rules %}
            fails_{{ rule.code }},
        {%- endfor %}
        nullif(concat_ws(
            '; ',
            {%- for rule in rules %}
                case when fails_{{ rule.code }} then '{{ rule.code }}' end
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as failed_rules,
        case when is_held_back then 'held_back' else 'in_marts' end as disposition
    from hold_flagged

)

select * from final
