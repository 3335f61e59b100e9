/* materialized: view */
/* entity: person */
/* description: Salesforce contacts of one connection (deleted ones dropped), named like every person source. */
SELECT
  id AS source_id,
  NULLIF(TRIM(email), '') AS email,
  NULLIF(TRIM(first_name), '') AS first_name,
  NULLIF(TRIM(last_name), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  NULLIF(TRIM(mobile_phone), '') AS mobile_phone,
  'Account' AS company_stream,
  NULLIF(TRIM(account_id), '') AS company_source_id,
  NULLIF(TRIM(title), '') AS job_title,
  NULLIF(TRIM(mailing_city), '') AS city,
  NULLIF(TRIM(mailing_country), '') AS country,
  NULLIF(TRIM(lead_source), '') AS lead_source,
  TRY_CAST(created_date AS TIMESTAMPTZ) AS created_at,
  COALESCE(
    TRY_CAST(last_modified_date AS TIMESTAMPTZ),
    TRY_CAST(system_modstamp AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_salesforce.contact
WHERE
  NOT COALESCE(is_deleted, FALSE)
