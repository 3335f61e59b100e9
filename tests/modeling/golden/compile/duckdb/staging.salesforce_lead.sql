/* materialized: view */
/* description: Salesforce leads of one connection (deleted ones dropped), named like the lead entity's records. */
/* entity: lead */
/* (its column contract; a converted lead points at the contact it became) */
SELECT
  id AS source_id,
  NULLIF(TRIM(email), '') AS email,
  NULLIF(TRIM(first_name), '') AS first_name,
  NULLIF(TRIM(last_name), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(NULLIF(TRIM(company), ''), '[not provided]') AS company_name,
  NULLIF(TRIM(status), '') AS status,
  NULLIF(TRIM(lead_source), '') AS lead_source,
  COALESCE(is_converted, FALSE) AS converted,
  CASE WHEN NOT NULLIF(TRIM(converted_contact_id), '') IS NULL THEN 'Contact' END AS person_stream,
  NULLIF(TRIM(converted_contact_id), '') AS person_source_id,
  TRY_CAST(created_date AS TIMESTAMPTZ) AS created_at,
  COALESCE(
    TRY_CAST(last_modified_date AS TIMESTAMPTZ),
    TRY_CAST(system_modstamp AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_salesforce.lead
WHERE
  NOT COALESCE(is_deleted, FALSE)
