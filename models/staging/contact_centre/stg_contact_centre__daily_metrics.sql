with

source as (

    select * from {{ source('contact_centre', 'contact_centre_metrics') }}

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

        -- what the loader could not read
        cast(load_issues as varchar) as load_issues

    from source

)

select * from renamed
