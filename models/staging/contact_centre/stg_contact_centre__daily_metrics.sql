with

source as (

    select * from {{ source('contact_centre', 'contact_centre_metrics') }}

),

carried as (

    -- Which measures the row's sheet has a column for, as `,name,name,`: a measure it
    -- does not carry is absent from the extract, not blank. Null in files landed before
    -- the loader recorded it, whose extracts carried every measure.
    select
        *,
        ','
        || coalesce(
            cast(carried_columns as varchar),
            '{{ daily_metric_measures() | map(attribute="raw_name") | join(",") }}'
        )
        || ',' as carried_list
    from source

),

renamed as (

    select
        -- identifiers and lineage
        cast(source_file_sha256 as varchar) as source_file_sha256,
        cast(source_sheet as varchar) as source_sheet,
        cast(source_row_number as bigint) as source_row_number,
        cast(source_file_name as varchar) as source_file_name,
        cast(ingested_at as timestamp) as ingested_at,
        cast(extract_rows as bigint) as extract_rows,
        cast(bi_id as bigint) as export_row_number,

        -- the day and its figures
        cast(date as date) as date,
        cast(callsoffered as bigint) as calls_offered,
        cast(callshandled as bigint) as calls_handled,
        cast(callsabandoned as bigint) as calls_abandoned,
        cast(averagespeedofanswer as double) as avg_speed_of_answer_seconds,
        cast(servicelevel as double) as service_level,

        -- which measures the row's extract carries
        {%- for measure in daily_metric_measures() %}
            strpos(carried_list, ',{{ measure.raw_name }},') > 0 as carries_{{ measure.name }},
        {%- endfor %}

        -- what the loader could not read
        cast(load_issues as varchar) as load_issues

    from carried

)

select * from renamed
