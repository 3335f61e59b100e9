-- differs: try_cast is a CAST guarded by a pattern here: text of the right shape but out of range (2024-02-30, a number too big for its type) fails the query instead of becoming NULL
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
  CASE
    WHEN CAST(balance AS TEXT) ~* '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$'
    THEN CAST(balance AS DECIMAL(18, 2))
  END AS balance,
  UPPER(NULLIF(TRIM(currency), '')) AS currency,
  CASE
    WHEN CAST(created_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(created_time AS TIMESTAMPTZ)
  END AS created_at,
  CASE
    WHEN CAST(last_updated_time AS TEXT) ~* '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$'
    THEN CAST(last_updated_time AS TIMESTAMPTZ)
  END AS updated_at
FROM raw_quickbooks.customers
WHERE
  NOT COALESCE(deleted, FALSE)
