/* materialized: view */
/* entity: person */
/* description: Shopify customers of one connection (deleted ones dropped), named like every person source. */
SELECT
  id AS source_id,
  NULLIF(LOWER(TRIM(email)), '') AS email,
  NULLIF(TRIM(first_name), '') AS first_name,
  NULLIF(TRIM(last_name), '') AS last_name,
  NULLIF(TRIM(phone), '') AS phone,
  TRY_CAST(CAST(number_of_orders AS VARCHAR) AS BIGINT) AS orders_count,
  TRY_CAST(CAST(amount_spent AS VARCHAR) AS DECIMAL(18, 2)) AS amount_spent,
  UPPER(amount_spent_currency) AS currency,
  TRY_CAST(CAST(created_at AS VARCHAR) AS TIMESTAMPTZ) AS created_at,
  TRY_CAST(CAST(updated_at AS VARCHAR) AS TIMESTAMPTZ) AS updated_at
FROM raw_shopify.customers
WHERE
  NOT COALESCE(deleted, FALSE)
