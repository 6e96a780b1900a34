-- Every file `dap load` was given, and what became of it: landed, landed with personal
-- data masked, unchanged, or refused (with why, and for personal data the kinds and in
-- how many places, never a value). A view, so that a load that lands nothing (a refusal,
-- a file already landed) shows here without a rebuild.
{{ config(materialized='view') }}

with

extract_events as (

    select * from {{ ref('stg_contact_centre__extract_events') }}

),

load_events as (

    -- What loads did; retractions and restorations are int_extracts_landed's concern.
    select *
    from extract_events
    where event_type in ('landed', 'masked', 'unchanged', 'refused')

),

final as (

    select
        event_id as load_id,
        file_number,
        recorded_at as loaded_at,
        actor,
        source_file_sha256,
        source_file_name,
        event_type as outcome,
        reason_code,
        reason,
        pii_kinds,
        pii_cells,
        pii_cells > 0 as has_personal_data,
        rows_landed
    from load_events

)

select * from final
