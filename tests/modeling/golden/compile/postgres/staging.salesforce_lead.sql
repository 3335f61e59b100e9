-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CASE
    WHEN CAST(created_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_date AS TIMESTAMPTZ)
  END AS created_at,
  COALESCE(
    CASE
      WHEN CAST(last_modified_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(last_modified_date AS TIMESTAMPTZ)
    END,
    CASE
      WHEN CAST(system_modstamp AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
      THEN CAST(system_modstamp AS TIMESTAMPTZ)
    END
  ) AS updated_at
FROM raw_salesforce.lead
WHERE
  NOT COALESCE(is_deleted, FALSE)
