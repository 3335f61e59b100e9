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
  TRY_CAST(CAST(balance AS VARCHAR) AS DECIMAL(18, 2)) AS balance,
  UPPER(NULLIF(TRIM(currency), '')) AS currency,
  TRY_CAST(CAST(created_time AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(last_updated_time AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_quickbooks.customers
WHERE
  NOT COALESCE(deleted, FALSE)
