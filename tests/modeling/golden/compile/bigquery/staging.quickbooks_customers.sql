/* materialized: view */
/* entity: person */
/* description: QuickBooks customers of one connection, named like every person source: the email is PrimaryEmailAddr, the phone PrimaryPhone (else Mobile). QuickBooks never deletes a customer, it makes it inactive: inactive ones stay, with active = false. */
SELECT
  id AS source_id,
  NULLIF(TRIM(email), '') AS email,
  NULLIF(TRIM(given_name), '') AS first_name,
  NULLIF(TRIM(family_name), '') AS last_name,
  COALESCE(NULLIF(TRIM(phone), ''), NULLIF(TRIM(mobile), '')) AS phone,
  NULLIF(TRIM(mobile), '') AS mobile_phone,
  NULLIF(TRIM(company_name), '') AS company_name,
  NULLIF(TRIM(bill_city), '') AS city,
  NULLIF(TRIM(bill_country), '') AS country,
  NULLIF(TRIM(display_name), '') AS display_name,
  COALESCE(active, TRUE) AS active,
  SAFE_CAST(balance AS NUMERIC(18, 2)) AS balance,
  UPPER(NULLIF(TRIM(currency), '')) AS currency,
  SAFE_CAST(created_time AS TIMESTAMP) AS created_at,
  SAFE_CAST(last_updated_time AS TIMESTAMP) AS updated_at
FROM raw_quickbooks.customers
WHERE
  NOT COALESCE(deleted, FALSE)
