-- Raw files that no longer hold what the loader wrote: a file altered after landing (a
-- column rewritten, values moved to other rows, rows added or removed) would build wrong
-- figures without a word. The loader records every raw file it writes in the raw-object
-- register (scripts/dap/lake/integrity/_register.py), before the file, with its row count
-- and a content fingerprint: per metric column, the sum of value x source_row_number
-- (exact for dates, as days since 1970-01-01, and counts; within 1e-9 relative for the
-- fractional measures), and the number of metric cells with a value. This recomputes them
-- from the rows the build actually reads, per raw file (extract and year folder), on
-- DuckDB and Athena alike, and fails naming the file, its extract and what differs.
-- Extracts the register does not know (landed before it existed) are for `dap verify`.
{{ config(severity='error') }}

{%- set counts = ['callsoffered', 'callshandled', 'callsabandoned', 'bi_id'] %}
{%- set numbers = ['averagespeedofanswer', 'servicelevel'] %}

with

raw_rows as (

    select * from {{ source('contact_centre', 'contact_centre_metrics') }}

),

register as (

    select * from {{ source('contact_centre', 'contact_centre_raw_objects') }}

),

ranked_entries as (

    -- A workbook landed again after an interrupted load has an entry per attempt, with
    -- the same fingerprints: the latest stands.
    select
        *,
        row_number() over (
            partition by raw_key order by registered_at desc
        ) as entry_rank
    from register

),

entries as (

    select * from ranked_entries
    where entry_rank = 1

),

registered_extracts as (

    select distinct source_file_sha256 from entries

),

files_read as (

    select
        source_file_sha256,
        coalesce(cast(year as varchar), '__HIVE_DEFAULT_PARTITION__') as partition_value,
        {%- for column in counts %}
            coalesce(
                sum(cast({{ column }} as decimal(38, 0)) * source_row_number), 0
            ) as fp_{{ column }},
        {%- endfor %}
        {%- for column in numbers %}
            coalesce(
                sum(cast({{ column }} as double) * source_row_number), 0
            ) as fp_{{ column }},
        {%- endfor %}
        coalesce(sum(
            cast(date_diff('day', date '1970-01-01', date) as decimal(38, 0))
            * source_row_number
        ), 0) as fp_date,
        sum(
            case when date is null then 0 else 1 end
            {%- for column in counts + numbers %}
                + case when {{ column }} is null then 0 else 1 end
            {%- endfor %}
        ) as non_null_cells,
        count(*) as rows_read
    from raw_rows
    where
        source_file_sha256 in (
            select registered.source_file_sha256 from registered_extracts as registered
        )
    group by
        source_file_sha256,
        coalesce(cast(year as varchar), '__HIVE_DEFAULT_PARTITION__')

),

compared as (

    select
        files_read.source_file_sha256,
        coalesce(
            entries.raw_key,
            'raw/contact_centre_metrics/year=' || files_read.partition_value || '/'
            || files_read.source_file_sha256 || '.parquet'
        ) as raw_file,
        entries.source_file_name,
        case
            when entries.raw_key is null
                then
                    'rows in a year folder the load did not write: '
                    || cast(files_read.rows_read as varchar) || ' row(s)'
            else concat_ws(
                '; ',
                case
                    when files_read.rows_read <> entries.row_count
                        then
                            'rows: ' || cast(files_read.rows_read as varchar)
                            || ', loaded ' || cast(entries.row_count as varchar)
                end,
                case
                    when files_read.non_null_cells <> entries.non_null_cells
                        then
                            'cells with a value: '
                            || cast(files_read.non_null_cells as varchar)
                            || ', loaded ' || cast(entries.non_null_cells as varchar)
                end,
                {%- for column in counts %}
                    case
                        when
                            files_read.fp_{{ column }}
                            <> cast(entries.fp_{{ column }} as decimal(38, 0))
                            then '{{ column }} values differ'
                    end,
                {%- endfor %}
                {%- for column in numbers %}
                    case
                        when
                            abs(files_read.fp_{{ column }} - entries.fp_{{ column }})
                            > 1e-9 * greatest(1, abs(entries.fp_{{ column }}))
                            then '{{ column }} values differ'
                    end,
                {%- endfor %}
                case
                    when files_read.fp_date <> cast(entries.fp_date as decimal(38, 0))
                        then 'date values differ'
                end
            )
        end as what_differs
    from files_read
    left join entries
        on
            files_read.source_file_sha256 = entries.source_file_sha256
            and files_read.partition_value = entries.partition_value

),

final as (

    select
        raw_file,
        source_file_name,
        source_file_sha256,
        what_differs,
        'the raw file is not what the load wrote: `dap verify` names every altered '
        || 'object; `dap repair ' || substr(source_file_sha256, 1, 12)
        || '` rebuilds the extract''s raw files from its landing copy' as what_to_do
    from compared
    where what_differs <> ''

)

select * from final
