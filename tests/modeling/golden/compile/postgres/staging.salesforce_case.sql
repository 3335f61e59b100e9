-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* description: Salesforce cases of one connection (deleted ones dropped), named like the ticket entity's records. */
/* entity: ticket */
/* (its column contract; the requester is the case's contact, else the email it came from) */
SELECT
  id AS source_id,
  NULLIF(TRIM(subject), '') AS subject,
  NULLIF(TRIM(status), '') AS status,
  NULLIF(TRIM(priority), '') AS priority,
  NULLIF(TRIM(supplied_email), '') AS email,
  CASE WHEN NOT NULLIF(TRIM(contact_id), '') IS NULL THEN 'Contact' END AS person_stream,
  NULLIF(TRIM(contact_id), '') AS person_source_id,
  CASE WHEN NOT NULLIF(TRIM(account_id), '') IS NULL THEN 'Account' END AS company_stream,
  NULLIF(TRIM(account_id), '') AS company_source_id,
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
FROM raw_salesforce."case"
WHERE
  NOT COALESCE(is_deleted, FALSE)
