-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
FROM raw_salesforce.contact
WHERE
  NOT COALESCE(is_deleted, FALSE)
