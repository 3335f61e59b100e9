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
  SAFE_CAST(amount AS NUMERIC(18, 2)) AS amount,
  CAST(NULL AS STRING) AS currency,
  SAFE_CAST(close_date AS DATE) AS close_date,
  CASE WHEN NOT NULLIF(TRIM(contact_id), '') IS NULL THEN 'Contact' END AS person_stream,
  NULLIF(TRIM(contact_id), '') AS person_source_id,
  CASE WHEN NOT NULLIF(TRIM(account_id), '') IS NULL THEN 'Account' END AS company_stream,
  NULLIF(TRIM(account_id), '') AS company_source_id,
  SAFE_CAST(created_date AS TIMESTAMP) AS created_at,
  COALESCE(
    SAFE_CAST(last_modified_date AS TIMESTAMP),
    SAFE_CAST(system_modstamp AS TIMESTAMP)
  ) AS updated_at
FROM raw_salesforce.opportunity
WHERE
  NOT COALESCE(is_deleted, FALSE)
