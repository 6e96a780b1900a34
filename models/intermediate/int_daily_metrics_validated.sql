{%- set rules = daily_metric_hard_rules() %}

with

daily_metrics as (

    select * from {{ ref('stg_contact_centre__daily_metrics') }}

),

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

committed as (

    -- Only extracts whose load completed: an extract with fewer rows than it declares
    -- (`extract_rows`) was interrupted mid-load, or is being loaded right now, and is
    -- left out until a load completes it, so nothing downstream sees half an extract.
    select
        daily_metrics.source_file_sha256,
        daily_metrics.source_sheet,
        daily_metrics.source_row_number,
        daily_metrics.source_file_name,
        daily_metrics.ingested_at,
        daily_metrics.export_row_number,
        daily_metrics.date,
        daily_metrics.calls_offered,
        daily_metrics.calls_handled,
        daily_metrics.calls_abandoned,
        daily_metrics.avg_speed_of_answer_seconds,
        daily_metrics.service_level,
        daily_metrics.load_issues
    from daily_metrics
    inner join extracts
        on daily_metrics.source_file_sha256 = extracts.source_file_sha256
    where extracts.is_complete

),

fingerprinted as (

    -- The figures of a row as one value, so identical rows can be told apart from
    -- rows that disagree.
    select
        *,
        concat_ws(
            '|',
            coalesce(cast(calls_offered as varchar), ''),
            coalesce(cast(calls_handled as varchar), ''),
            coalesce(cast(calls_abandoned as varchar), ''),
            coalesce(cast(service_level as varchar), ''),
            coalesce(cast(avg_speed_of_answer_seconds as varchar), '')
        ) as figures_key
    from committed

),

versions_ranked as (

    select
        *,
        dense_rank() over (
            partition by source_file_sha256, date
            order by figures_key
        ) as version_number,
        row_number() over (
            partition by source_file_sha256, date, figures_key
            order by source_sheet, source_row_number
        ) as copy_number
    from fingerprinted

),

versions_counted as (

    select
        *,
        max(version_number) over (
            partition by source_file_sha256, date
        ) as versions_of_date_in_extract
    from versions_ranked

),

rule_checks as (

    select
        {%- for rule in rules %}
            coalesce({{ rule.fails_when }}, false) as fails_{{ rule.code }},
        {%- endfor %}
        *
    from versions_counted

),

quarantine_flagged as (

    select
        *,
        (
            {%- for rule in rules %}
                fails_{{ rule.code }} {{- " or" if not loop.last }}
            {%- endfor %}
        ) as is_quarantined
    from rule_checks

),

usable as (

    -- A row can reach the marts if it has a date, breaks no hard rule and is not a
    -- second copy of an identical row of the same extract.
    select
        *,
        date is not null
        and not is_quarantined
        and not (copy_number > 1 and versions_of_date_in_extract = 1) as is_usable
    from quarantine_flagged

),

recency_ranked as (

    select
        *,
        row_number() over (
            partition by date, is_usable
            order by ingested_at desc, source_file_sha256 desc
        ) as usable_recency_rank
    from usable

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
        versions_of_date_in_extract,
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
        is_quarantined,
        case
            when is_quarantined then 'quarantined'
            when not is_usable then 'repeated'
            when usable_recency_rank = 1 then 'in_marts'
            else 'superseded'
        end as disposition
    from recency_ranked

)

select * from final
