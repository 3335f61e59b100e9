-- materialized: view
-- description: Salesforce leads of one connection (deleted ones dropped), named like the lead entity's records.
-- entity: lead
-- (its column contract; a converted lead points at the contact it became)
SELECT
    id AS source_id,
    nullif(trim(email), '') AS email,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(trim(phone), '') AS phone,
    nullif(nullif(trim(company), ''), '[not provided]') AS company_name,
    nullif(trim(status), '') AS status,
    nullif(trim(lead_source), '') AS lead_source,
    coalesce(is_converted, false) AS converted,
    CASE WHEN nullif(trim(converted_contact_id), '') IS NOT NULL THEN 'Contact' END AS person_stream,
    nullif(trim(converted_contact_id), '') AS person_source_id,
    try_cast(created_date AS TIMESTAMPTZ) AS created_at,
    coalesce(try_cast(last_modified_date AS TIMESTAMPTZ), try_cast(system_modstamp AS TIMESTAMPTZ)) AS updated_at
FROM raw_salesforce.lead
WHERE NOT coalesce(is_deleted, false)
