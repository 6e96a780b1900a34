{%- set rules = daily_metric_hard_rules('source_row') %}
{%- set measures = daily_metric_measures() %}

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
        {%- for measure in measures %}
            daily_metrics.carries_{{ measure.name }},
        {%- endfor %}
        daily_metrics.load_issues
    from daily_metrics
    inner join extracts
        on daily_metrics.source_file_sha256 = extracts.source_file_sha256
    where extracts.is_complete and not coalesce(extracts.is_retracted, false)

),

fingerprinted as (

    -- The measures a row carries and their values as one value, so identical rows can
    -- be told apart from rows that disagree.
    select
        *,
        concat_ws(
            '|',
            {%- for measure in measures %}
                case
                    when carries_{{ measure.name }}
                        then coalesce(cast({{ measure.name }} as varchar), '')
                    else '-'
                end
                {{- "," if not loop.last }}
            {%- endfor %}
        ) as figures_key
    from committed

),

versions_ranked as (

    -- Per measure, the different values the extract gives the date, among its rows
    -- that carry the measure (sheets carrying other measures do not disagree with them).
    select
        {%- for measure in measures %}
            dense_rank() over (
                partition by source_file_sha256, date, carries_{{ measure.name }}
                order by coalesce(cast({{ measure.name }} as varchar), '')
            ) as {{ measure.name }}_version,
        {%- endfor %}
        row_number() over (
            partition by source_file_sha256, date, figures_key
            order by source_sheet, source_row_number
        ) as copy_number,
        *
    from fingerprinted

),

versions_counted as (

    select
        {%- for measure in measures %}
            case
                when carries_{{ measure.name }}
                    then max({{ measure.name }}_version) over (
                        partition by source_file_sha256, date, carries_{{ measure.name }}
                    )
                else 1
            end as {{ measure.name }}_versions,
        {%- endfor %}
        *
    from versions_ranked

),

versions_of_date as (

    select
        *,
        greatest(
            {%- for measure in measures %}
                {{ measure.name }}_versions {{- "," if not loop.last }}
            {%- endfor %}
        ) as versions_of_date_in_extract
    from versions_counted

),

rule_checks as (

    select
        {{- rule_failure_flags(rules) }}
        *
    from versions_of_date

),

quarantine_flagged as (

    select
        *,
        {{ any_rule_fails(rules) }} as is_quarantined
    from rule_checks

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
        {%- for measure in measures %}
            carries_{{ measure.name }},
        {%- endfor %}
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
        -- A row breaking no rule is valid: int_daily_metrics_merged takes each measure
        -- it carries from it unless a valid row of an extract before it in precedence
        -- order (int_extract_precedence) carries it too.
        -- A second copy of an identical row of the same extract counts once.
        case
            when is_quarantined then 'quarantined'
            when copy_number > 1 and versions_of_date_in_extract = 1 then 'repeated'
            else 'valid'
        end as disposition
    from quarantine_flagged

)

select * from final
