{%- set rules = daily_metric_hard_rules() %}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

quality_rules as (

    select * from {{ ref('quality_rules') }}

),

quarantined as (

    select *
    from validated
    where disposition = 'quarantined'

),

dates_in_marts as (

    select date
    from validated
    where disposition = 'in_marts'

),

failures as (

    {%- for rule in rules %}
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

final as (

    select
        failures.source_file_sha256,
        failures.source_sheet,
        failures.source_row_number,
        failures.rule_code,
        quality_rules.description as quarantine_reason,
        quarantined.failed_rules,
        quarantined.load_issues,
        quarantined.date,
        dates_in_marts.date is not null as is_date_in_marts,
        quarantined.calls_offered,
        quarantined.calls_handled,
        quarantined.calls_abandoned,
        quarantined.service_level,
        quarantined.avg_speed_of_answer_seconds,
        quarantined.source_file_name,
        quarantined.ingested_at
    from failures
    inner join quarantined
        on
            failures.source_file_sha256 = quarantined.source_file_sha256
            and failures.source_sheet = quarantined.source_sheet
            and failures.source_row_number = quarantined.source_row_number
    left join quality_rules
        on failures.rule_code = quality_rules.rule_code
    left join dates_in_marts
        on quarantined.date = dates_in_marts.date

)

select * from final
