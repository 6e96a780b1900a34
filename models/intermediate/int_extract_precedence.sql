{#
    The order in which extracts give a day its figures, defined once: for each date and
    measure, int_daily_metrics_merged takes the valid row of the extract with the lowest
    precedence_rank that carries the measure. A superseding extract (dap load
    --supersede) first, a later supersede before an earlier one; then the extract whose
    valid rows reach the later date; then the more recently ingested; then the larger
    sha256, so that the order never depends on the engine. Documented in the docs block
    extract_precedence (models/intermediate/_intermediate__docs.md).
#}

with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

extracts as (

    select * from {{ ref('int_extracts_landed') }}

),

extract_reach as (

    -- An extract's reach: the latest date among its valid rows.
    select
        source_file_sha256,
        max(date) as reach_date
    from validated
    where disposition = 'valid'
    group by source_file_sha256

),

extracts_with_reach as (

    select
        extracts.source_file_sha256,
        extracts.source_file_name,
        extracts.ingested_at,
        extract_reach.reach_date,
        extracts.supersede_sequence,
        extracts.superseded_at,
        extracts.supersede_reason
    from extract_reach
    inner join extracts
        on extract_reach.source_file_sha256 = extracts.source_file_sha256

),

ranked as (

    select
        *,
        row_number() over (
            order by
                coalesce(supersede_sequence, 0) desc,
                reach_date desc,
                ingested_at desc,
                source_file_sha256 desc
        ) as precedence_rank
    from extracts_with_reach

),

final as (

    select
        source_file_sha256,
        source_file_name,
        ingested_at,
        reach_date,
        supersede_sequence,
        superseded_at,
        supersede_reason,
        supersede_sequence is not null as is_superseding,
        precedence_rank
    from ranked

)

select * from final
