-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
/* materialized: view */
/* description: Salesforce opportunities of one connection (deleted ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the org's currency is not in a single-currency org's records) */
SELECT
  id AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(TRIM(stage_name), '') AS stage,
  COALESCE(is_closed, FALSE) AS is_closed,
  COALESCE(is_won, FALSE) AS is_won,
  CASE
    WHEN CAST(amount AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(amount AS DECIMAL(18, 2))
  END AS amount,
  CAST(NULL AS TEXT) AS currency,
  CASE
    WHEN CAST(close_date AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(close_date AS DATE)
  END AS close_date,
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
FROM raw_salesforce.opportunity
WHERE
  NOT COALESCE(is_deleted, FALSE)
