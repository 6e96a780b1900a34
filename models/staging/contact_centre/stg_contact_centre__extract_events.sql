with

source as (

    select * from {{ source('contact_centre', 'contact_centre_extract_events') }}

),

renamed as (

    select
        -- the run and the file
        cast(event_id as varchar) as event_id,
        cast(file_number as bigint) as file_number,
        cast(recorded_at as timestamp) as recorded_at,
        cast(actor as varchar) as actor,
        cast(event_type as varchar) as event_type,
        cast(source_file_sha256 as varchar) as source_file_sha256,
        cast(source_file_name as varchar) as source_file_name,

        -- why, and what was found
        cast(reason_code as varchar) as reason_code,
        cast(reason as varchar) as reason,
        cast(pii_kinds as varchar) as pii_kinds,
        cast(pii_cells as bigint) as pii_cells,
        cast(rows_landed as bigint) as rows_landed

    from source

)

select * from renamed
