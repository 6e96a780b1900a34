{%- set rules = daily_metric_hard_rules() %}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

quality_rules as (

    select * from {{ ref('quality_rules') }}

),

held_back as (

    -- Rows the marts would otherwise use: the latest extract's row for its date,
    -- or a row with no usable date at all. Superseded rows are not held back;
    -- a newer extract replaced them.
    select *
    from validated
    where is_quarantined and (is_from_latest_extract or date is null)

),

failures as (

    {%- for rule in rules %}
        select
            source_file_sha256,
            source_sheet,
            source_row_number,
            '{{ rule.code }}' as rule_code
        from held_back
        where fails_{{ rule.code }}
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        failures.source_file_sha256,
        failures.source_sheet,
        failures.source_row_number,
        failures.rule_code,
        quality_rules.description as quarantine_reason,
        held_back.failed_rules,
        held_back.load_issues,
        held_back.date,
        held_back.calls_offered,
        held_back.calls_handled,
        held_back.calls_abandoned,
        held_back.service_level,
        held_back.avg_speed_of_answer_seconds,
        held_back.source_file_name,
        held_back.ingested_at
    from failures
    inner join held_back
        on
            failures.source_file_sha256 = held_back.source_file_sha256
            and failures.source_sheet = held_back.source_sheet
            and failures.source_row_number = held_back.source_row_number
    left join quality_rules
        on failures.rule_code = quality_rules.rule_code

)

select * from final
