-- Nothing is lost between staging and the marts: every staged row is exactly one of
-- in the trusted daily mart, quarantined, or superseded by a newer extract.
with

validated as (

    select * from {{ ref('int_daily_metrics_validated') }}

),

daily as (

    select * from {{ ref('fct_contact_centre_daily') }}

),

quarantine as (

    select * from {{ ref('quarantine_daily_metrics') }}

),

quarantined_rows as (

    select distinct
        source_file_sha256,
        source_sheet,
        source_row_number
    from quarantine

),

classified as (

    select
        validated.source_file_sha256,
        validated.source_sheet,
        validated.source_row_number,
        validated.date,
        daily.date is not null as is_in_marts,
        quarantined_rows.source_row_number is not null as is_in_quarantine,
        validated.date is not null and not validated.is_from_latest_extract as is_superseded
    from validated
    left join daily
        on
            validated.date = daily.date
            and validated.source_file_sha256 = daily.source_file_sha256
    left join quarantined_rows
        on
            validated.source_file_sha256 = quarantined_rows.source_file_sha256
            and validated.source_sheet = quarantined_rows.source_sheet
            and validated.source_row_number = quarantined_rows.source_row_number

),

unaccounted as (

    select *
    from classified
    where
        cast(is_in_marts as integer)
        + cast(is_in_quarantine as integer)
        + cast(is_superseded as integer) <> 1

)

select * from unaccounted
