{#-
    What is held back from the trusted marts, with the reason: source rows breaking a
    rule of their own (scope source_row), and the source rows that make up a merged day
    breaking a day rule (scope day: a cross-measure rule, or the day is incomplete), one
    entry per such row, each naming every part of the day the rule looks at.
#}
{%- set row_rules = daily_metric_hard_rules('source_row') %}
{%- set day_rules = daily_metric_hard_rules('day') %}
{%- set measures = daily_metric_measures() %}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

merged as (

    select * from {{ ref('int_daily_metrics_merged') }}

),

quality_rules as (

    select * from {{ ref('quality_rules') }}

),

quarantined as (

    select *
    from validated
    where disposition = 'quarantined'

),

held_back_days as (

    select *
    from merged
    where disposition = 'held_back'

),

dates_in_marts as (

    select date
    from merged
    where disposition = 'in_marts'

),

row_failures as (

    {%- for rule in row_rules %}
        select
            source_file_sha256,
            source_sheet,
            source_row_number,
            '{{ rule.code }}' as rule_code
        from quarantined
        where fails_{{ rule.code }}
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}

),

row_entries as (

    select
        row_failures.source_file_sha256,
        row_failures.source_sheet,
        row_failures.source_row_number,
        row_failures.rule_code,
        cast('source_row' as varchar) as rule_scope,
        quarantined.failed_rules,
        quarantined.load_issues,
        quarantined.date,
        cast(null as varchar) as measures_supplied,
        cast(null as varchar) as day_parts,
        quarantined.calls_offered,
        quarantined.calls_handled,
        quarantined.calls_abandoned,
        quarantined.service_level,
        quarantined.avg_speed_of_answer_seconds,
        quarantined.source_file_name,
        quarantined.ingested_at
    from row_failures
    inner join quarantined
        on
            row_failures.source_file_sha256 = quarantined.source_file_sha256
            and row_failures.source_sheet = quarantined.source_sheet
            and row_failures.source_row_number = quarantined.source_row_number

),

day_failures as (

    -- One row per held-back day, day rule broken and part (measure) the rule looks at,
    -- with the source row that supplied the part; the parts the day lacks have none.
    -- Each row also names every part of the rule and the extract it came from, if any.
    {%- for rule in day_rules %}
        {%- set rule_loop = loop %}
        {%- for part in rule.parts %}
            select
                date,
                '{{ rule.code }}' as rule_code,
                '{{ part }}' as measure,
                {{ part }}_source_file_sha256 as source_file_sha256,
                {{ part }}_source_sheet as source_sheet,
                {{ part }}_source_row_number as source_row_number,
                concat_ws(
                    '; ',
                    {%- for named in rule.parts %}
                        case
                            when {{ named }}_source_file_sha256 is not null
                                then
                                    '{{ named }} from '
                                    || {{ named }}_source_file_name
                                    || ' (sheet '
                                    || {{ named }}_source_sheet
                                    || ', row '
                                    || cast({{ named }}_source_row_number as varchar)
                                    || ')'
                            else '{{ named }} from no extract'
                        end
                        {{- "," if not loop.last }}
                    {%- endfor %}
                ) as day_parts
            from held_back_days
            where
                fails_{{ rule.code }}
                and {{ part }}_source_file_sha256 is not null
            {{- "\n            union all" if not (loop.last and rule_loop.last) }}
        {%- endfor %}
    {%- endfor %}

),

day_failures_by_row as (

    -- A source row may supply several parts of a day (one workbook with every column).
    select
        date,
        rule_code,
        source_file_sha256,
        source_sheet,
        source_row_number,
        max(day_parts) as day_parts,
        nullif(concat_ws(
            ', ',
            {%- for measure in measures %}
                max(case when measure = '{{ measure.name }}' then measure end)
                {{- "," if not loop.last }}
            {%- endfor %}
        ), '') as measures_supplied
    from day_failures
    group by date, rule_code, source_file_sha256, source_sheet, source_row_number

),

day_entries as (

    -- The figures are the merged day's, whose rule they break.
    select
        day_failures_by_row.source_file_sha256,
        day_failures_by_row.source_sheet,
        day_failures_by_row.source_row_number,
        day_failures_by_row.rule_code,
        cast('day' as varchar) as rule_scope,
        held_back_days.failed_rules,
        validated.load_issues,
        day_failures_by_row.date,
        day_failures_by_row.measures_supplied,
        day_failures_by_row.day_parts,
        held_back_days.calls_offered,
        held_back_days.calls_handled,
        held_back_days.calls_abandoned,
        held_back_days.service_level,
        held_back_days.avg_speed_of_answer_seconds,
        validated.source_file_name,
        validated.ingested_at
    from day_failures_by_row
    inner join held_back_days
        on day_failures_by_row.date = held_back_days.date
    inner join validated
        on
            day_failures_by_row.source_file_sha256 = validated.source_file_sha256
            and day_failures_by_row.source_sheet = validated.source_sheet
            and day_failures_by_row.source_row_number = validated.source_row_number

),

entries as (

    select * from row_entries
    union all
    select * from day_entries

),

final as (

    select
        entries.source_file_sha256,
        entries.source_sheet,
        entries.source_row_number,
        entries.rule_code,
        entries.rule_scope,
        quality_rules.severity,
        quality_rules.description as quarantine_reason,
        entries.failed_rules,
        entries.load_issues,
        entries.date,
        dates_in_marts.date is not null as is_date_in_marts,
        entries.measures_supplied,
        entries.day_parts,
        entries.calls_offered,
        entries.calls_handled,
        entries.calls_abandoned,
        entries.service_level,
        entries.avg_speed_of_answer_seconds,
        entries.source_file_name,
        entries.ingested_at
    from entries
    left join quality_rules
        on entries.rule_code = quality_rules.rule_code
    left join dates_in_marts
        on entries.date = dates_in_marts.date

)

select * from final
