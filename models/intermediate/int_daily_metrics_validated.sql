{%- set rules = daily_metric_hard_rules() %}

with

daily_metrics as (

    select * from {{ ref('stg_contact_centre__daily_metrics') }}

),

with_context as (

    select
        *,
        count(*) over (
            partition by source_file_sha256, date
        ) as rows_for_date_in_extract,
        dense_rank() over (
            partition by date
            order by ingested_at desc, source_file_sha256 desc
        ) as extract_recency_rank
    from daily_metrics

),

rule_checks as (

    select
        *,
        {%- for rule in rules %}
            coalesce({{ rule.fails_when }}, false) as fails_{{ rule.code }},
        {%- endfor %}
        date is not null and extract_recency_rank = 1 as is_from_latest_extract
    from with_context

),

final as (

    select
        source_file_sha256,
        source_sheet,
        source_row_number,
        source_file_name,
        ingested_at,
        export_row_number,
        date,
        calls_offered,
        calls_handled,
        calls_abandoned,
        avg_speed_of_answer_seconds,
        service_level,
        load_issues,
        rows_for_date_in_extract,
        extract_recency_rank,
        is_from_latest_extract,
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
        (
            {%- for rule in rules %}
                fails_{{ rule.code }} {{- " or" if not loop.last }}
            {%- endfor %}
        ) as is_quarantined
    from rule_checks

)

select * from final
