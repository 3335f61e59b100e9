/* materialized: view */
/* description: Salesforce opportunities of one connection (deleted ones dropped), named like the deal entity's records. */
/* entity: deal */
/* (its column contract; the org's currency is not in a single-currency org's records) */
SELECT
  id AS source_id,
  NULLIF(TRIM(name), '') AS name,
  NULLIF(TRIM(stage_name), '') AS "STAGE",
  COALESCE(is_closed, FALSE) AS is_closed,
  COALESCE(is_won, FALSE) AS is_won,
  TRY_CAST(CAST(amount AS VARCHAR) AS DECIMAL(18, 2)) AS amount,
  CAST(NULL AS VARCHAR) AS currency,
  TRY_CAST(CAST(close_date AS VARCHAR) AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(TRIM(contact_id), '') IS NULL THEN 'Contact' END AS person_stream,
  NULLIF(TRIM(contact_id), '') AS person_source_id,
  CASE WHEN NOT NULLIF(TRIM(account_id), '') IS NULL THEN 'Account' END AS company_stream,
  NULLIF(TRIM(account_id), '') AS company_source_id,
  TRY_CAST(CAST(created_date AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  COALESCE(
    TRY_CAST(CAST(last_modified_date AS VARCHAR) AS TIMESTAMPTZ),
    TRY_CAST(CAST(system_modstamp AS VARCHAR) AS TIMESTAMPTZ)
  ) AS updated_at
FROM raw_salesforce.opportunity
WHERE
  NOT COALESCE(is_deleted, FALSE)
